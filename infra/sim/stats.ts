/** Small statistics helpers for the admission simulation. */

/** A growable Float64Array (latencies, admission times: hundreds of thousands of numbers). */
export class Samples {
  #data = new Float64Array(1024);
  length = 0;

  push(x: number): void {
    if (this.length === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.length++] = x;
  }

  values(): Float64Array {
    return this.#data.subarray(0, this.length);
  }

  /** Nearest-rank percentiles (p in 0..100) of the samples. */
  percentiles(...ps: number[]): number[] {
    const sorted = Float64Array.from(this.values()).sort();
    return ps.map((p) => {
      if (sorted.length === 0) return 0;
      const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
      return sorted[rank]!;
    });
  }
}

/**
 * The most events in any window of `windowMs` (closed: [t, t + windowMs]) over sorted times —
 * the window with the most events always starts at one of them, so a two-pointer pass finds it.
 */
export function maxInWindow(sortedTimes: Float64Array, windowMs: number): { count: number; startMs: number } {
  let best = 0;
  let startMs = 0;
  let j = 0;
  for (let i = 0; i < sortedTimes.length; i++) {
    const end = sortedTimes[i]! + windowMs;
    if (j < i) j = i;
    while (j < sortedTimes.length && sortedTimes[j]! <= end) j++;
    if (j - i > best) {
      best = j - i;
      startMs = sortedTimes[i]!;
    }
  }
  return { count: best, startMs };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
