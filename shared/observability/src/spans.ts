/**
 * Timed spans of one request (or of one RPC call inside it): durations in milliseconds by span
 * name, summed when a name recurs (two tool rounds are one `tool` span). No exporter: the gateway
 * turns them into a `Server-Timing` header, internal workers return theirs in their RPC reply's
 * optional `timings` field, and production traces come from Workers' own tracing (wrangler.jsonc
 * `observability.traces`; see docs/observability.md).
 *
 * The clock is `performance.now()`. In production Workers it advances only on I/O (a Spectre
 * mitigation), so a span of pure CPU work reads 0 ms and a span around an RPC call, a fetch or a
 * storage call reads the time spent waiting on it; local workerd advances it in whole
 * milliseconds. Recording costs two clock reads and an array write per span.
 */

/** Span durations in milliseconds by name, as an RPC reply's `timings` carries them. */
export type SpanTimings = Record<string, number>;

/** A span name as Server-Timing allows it (an HTTP token), short and lower-case. */
const SPAN_NAME = /^[a-z][a-z0-9_.-]{0,31}$/;

/** The current time for spans, in milliseconds. */
export const now: () => number = () => performance.now();

export class Spans {
  // Parallel arrays: a request has a handful of spans, so a linear scan beats a dictionary object.
  readonly #names: string[] = [];
  readonly #ms: number[] = [];

  /** Adds `ms` to span `name`. */
  add(name: string, ms: number): void {
    const at = this.#names.indexOf(name);
    if (at === -1) {
      this.#names.push(name);
      this.#ms.push(ms);
    } else this.#ms[at]! += ms;
  }

  /** Ends span `name` that started at `startedAt` (a `now()` reading). */
  end(name: string, startedAt: number): void {
    this.add(name, now() - startedAt);
  }

  /** Records span `name` only the first time (a time to first token is measured once per turn). */
  once(name: string, ms: number): void {
    if (!this.#names.includes(name)) this.add(name, ms);
  }

  /**
   * Adds a callee's timings (an RPC reply's `timings`). Names that are not span names and values
   * that are not finite non-negative numbers are dropped, so a reply can never break the header.
   */
  merge(timings: unknown): void {
    if (typeof timings !== "object" || timings === null) return;
    for (const [name, ms] of Object.entries(timings)) {
      if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0 && SPAN_NAME.test(name)) this.add(name, ms);
    }
  }

  /** The spans as a plain object, for an RPC reply's `timings`. */
  timings(): SpanTimings {
    const timings: SpanTimings = {};
    for (let i = 0; i < this.#names.length; i++) timings[this.#names[i]!] = this.#ms[i]!;
    return timings;
  }

  /** A `Server-Timing` value: every span in the order first recorded, then `total`. */
  serverTiming(totalMs: number): string {
    let header = "";
    for (let i = 0; i < this.#names.length; i++) header += `${this.#names[i]};dur=${round(this.#ms[i]!)}, `;
    return `${header}total;dur=${round(totalMs)}`;
  }
}

/** Milliseconds to a tenth, as a short string. */
export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
