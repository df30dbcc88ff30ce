/**
 * The discrete-event core of the admission simulation: a virtual clock, a priority queue of
 * events ordered by (time, insertion), a seeded PRNG, and the single-threaded object model.
 *
 * The code under test is async (LeasedLimiter, BudgetPool). After every event that may settle a
 * promise the loop waits for a `setImmediate`, by which time Node has drained the whole microtask
 * queue — so every `.then` and `await` continuation runs at the virtual time of the event that
 * caused it, exactly as it would between two real I/O events. Nothing in the code under test uses
 * real timers; `sleep` is virtual.
 */

interface Event {
  t: number;
  seq: number;
  run: () => void;
  /** True when `run` settles no promise, so no microtask drain is needed after it. */
  sync: boolean;
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Sim {
  now = 0;
  events = 0;
  readonly #heap: Event[] = [];
  #seq = 0;

  /** The virtual clock, as the code under test sees it (`Clock`). */
  readonly clock = { now: () => this.now };

  at(t: number, run: () => void, sync = false): void {
    if (!(t >= this.now)) throw new Error(`event scheduled in the past: ${t} < ${this.now}`);
    this.#push({ t, seq: this.#seq++, run, sync });
  }

  after(ms: number, run: () => void, sync = false): void {
    this.at(this.now + ms, run, sync);
  }

  /** A virtual sleep for the code under test. */
  readonly sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => this.after(ms, resolve));

  /** Runs events until none is left. */
  async run(): Promise<void> {
    await drain();
    for (;;) {
      const event = this.#pop();
      if (!event) return;
      this.now = event.t;
      this.events += 1;
      event.run();
      if (!event.sync) await drain();
    }
  }

  #push(event: Event): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = event;
  }

  #pop(): Event | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

/** mulberry32: a small, fast, seeded PRNG; `next()` is uniform in [0, 1). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Exponential with mean `mean`. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A seed for one named stream of a run (so e.g. arrivals are the same for both policies). */
export function streamSeed(seed: number, name: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A Durable Object as a single-threaded server: calls are taken in arrival order, each occupies
 * the object for `serviceMs`, and a call that arrives while it is busy waits. `handle` runs when
 * the call starts, at the object's virtual time, with no await — as RateLimiter.lease and
 * QuotaLedger.lease do — so calls never interleave.
 */
export class ObjectServer {
  busyUntil = 0;
  calls = 0;
  busyMs = 0;
  maxWaitMs = 0;
  /** Calls started per virtual second (object time). */
  readonly perSecond: number[] = [];

  constructor(
    readonly sim: Sim,
    readonly serviceMs: number,
  ) {
    if (!(serviceMs > 0)) throw new RangeError("serviceMs must be > 0 (calls start in arrival order)");
  }

  /**
   * A call from a place `rttMs` away: it reaches the object after rttMs / 2, waits its turn, runs
   * `handle(start)`, and its answer is back rttMs / 2 after the object is done with it.
   */
  call<T>(rttMs: number, handle: (now: number) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.sim.after(
        rttMs / 2,
        () => {
          const arrived = this.sim.now;
          // Start times strictly increase by serviceMs while busy, so calls start in arrival order.
          const start = Math.max(arrived, this.busyUntil);
          this.busyUntil = start + this.serviceMs;
          this.calls += 1;
          this.busyMs += this.serviceMs;
          this.maxWaitMs = Math.max(this.maxWaitMs, start - arrived);
          const second = Math.floor(start / 1000);
          this.perSecond[second] = (this.perSecond[second] ?? 0) + 1;
          this.sim.at(
            start,
            () => {
              let settle: () => void;
              try {
                const value = handle(this.sim.now);
                settle = () => resolve(value);
              } catch (error) {
                settle = () => reject(error);
              }
              this.sim.at(this.sim.now + this.serviceMs + rttMs / 2, settle);
            },
            true,
          );
        },
        true,
      );
    });
  }

  /** The busiest second's calls. */
  peakPerSecond(): number {
    let peak = 0;
    for (const n of this.perSecond) if (n !== undefined && n > peak) peak = n;
    return peak;
  }
}
