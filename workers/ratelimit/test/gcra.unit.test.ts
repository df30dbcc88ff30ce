import { describe, expect, it } from "vitest";
import { type GcraLimit, type GcraState, lease } from "../src/gcra";

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);

/** One admission: a lease of 1, read as allowed or not. */
function take(state: GcraState | null, limit: GcraLimit, now: number) {
  const { result, state: next } = lease(state, limit, now, 1);
  const { granted, retryAfterMs: _ms, ...rest } = result;
  return { result: { allowed: granted === 1, ...rest }, state: next };
}

/** Gives back one unused admission (a lease of 0 with one given back). */
function refund(state: GcraState | null, limit: GcraLimit, now: number): GcraState {
  return lease(state, limit, now, 0, 1).state;
}

/** Takes `count` requests at `now`, threading the state; returns the results and final state. */
function takeMany(state: GcraState | null, limit: GcraLimit, now: number, count: number) {
  const results = [];
  for (let i = 0; i < count; i++) {
    const step = take(state, limit, now);
    results.push(step.result);
    state = step.state;
  }
  return { results, state };
}

describe("GCRA", () => {
  const limit = { perMinute: 60, burst: 5 }; // one request per second, five at once

  it("admits the whole burst at once, counting remaining down", () => {
    const { results } = takeMany(null, limit, T0, 5);
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true]);
    expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(results.map((r) => r.resetSeconds)).toEqual([1, 2, 3, 4, 5]);
    expect(results.every((r) => r.retryAfterSeconds === 0 && r.limit === 60)).toBe(true);
  });

  it("refuses the request after the burst with the wait until one is replenished", () => {
    const { state } = takeMany(null, limit, T0, 5);
    const refused = take(state, limit, T0).result;
    expect(refused).toEqual({
      allowed: false,
      remaining: 0,
      resetSeconds: 5,
      retryAfterSeconds: 1,
      limit: 60,
    });

    const slower = { perMinute: 20, burst: 2 }; // one per 3 s
    const { state: slowState } = takeMany(null, slower, T0, 2);
    expect(take(slowState, slower, T0 + 500).result).toMatchObject({
      allowed: false,
      retryAfterSeconds: 3, // 2.5 s, rounded up
      resetSeconds: 6, // 5.5 s, rounded up
    });
  });

  it("a refused request does not consume anything", () => {
    let { state } = takeMany(null, limit, T0, 5);
    for (let i = 0; i < 20; i++) state = take(state, limit, T0).state;
    expect(take(state, limit, T0 + 1000).result).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("replenishes one request per emission interval, up to the burst", () => {
    const { state } = takeMany(null, limit, T0, 5);
    expect(take(state, limit, T0 + 999).result.allowed).toBe(false);
    expect(take(state, limit, T0 + 999).result.retryAfterSeconds).toBe(1);

    const afterOne = take(state, limit, T0 + 1000);
    expect(afterOne.result).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 5 });
    expect(take(afterOne.state, limit, T0 + 1000).result.allowed).toBe(false);

    const afterThree = takeMany(state, limit, T0 + 3000, 4);
    expect(afterThree.results.map((r) => r.allowed)).toEqual([true, true, true, false]);

    // Long idle: full again, never more than the burst.
    const idle = takeMany(state, limit, T0 + 3_600_000, 6);
    expect(idle.results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    expect(idle.results[5]?.allowed).toBe(false);
  });

  it("admits exactly the burst when the interval is not a whole number of ms", () => {
    const odd = { perMinute: 7, burst: 3 }; // 8571.43 ms
    const { results } = takeMany(null, odd, T0, 4);
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]?.retryAfterSeconds).toBe(9);
    expect(results[2]?.resetSeconds).toBe(26); // 25.7 s
  });

  it("refund gives back exactly one admission and never overfills", () => {
    const { state } = takeMany(null, limit, T0, 5);
    const refunded = refund(state, limit, T0);
    const again = takeMany(refunded, limit, T0, 2);
    expect(again.results.map((r) => r.allowed)).toEqual([true, false]);

    const overRefunded = refund(refund(null, limit, T0), limit, T0);
    const fresh = takeMany(overRefunded, limit, T0, 6);
    expect(fresh.results.filter((r) => r.allowed)).toHaveLength(5);
  });

  it("carries the outstanding count over when the limit changes", () => {
    const { state } = takeMany(null, limit, T0, 5); // 5 of 5 outstanding

    // Larger burst, same rate: the 5 outstanding leave 5 more of 10.
    const wider = takeMany(state, { perMinute: 60, burst: 10 }, T0, 6);
    expect(wider.results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false]);

    // Faster rate: the 5 outstanding drain in 5 × 100 ms instead of 5 s.
    const faster = { perMinute: 600, burst: 5 };
    const switched = take(state, faster, T0);
    expect(switched.result).toMatchObject({ allowed: false, resetSeconds: 1 });
    const drained = takeMany(switched.state, faster, T0 + 100, 2);
    expect(drained.results.map((r) => r.allowed)).toEqual([true, false]);

    // Smaller burst: capped at full, so the wait is one interval, not the old backlog.
    const narrower = { perMinute: 60, burst: 2 };
    const capped = take(state, narrower, T0);
    expect(capped.result).toMatchObject({ allowed: false, retryAfterSeconds: 1, resetSeconds: 2 });
    const later = takeMany(capped.state, narrower, T0 + 1000, 2);
    expect(later.results.map((r) => r.allowed)).toEqual([true, false]);
  });

  it("leases several admissions at once, charged at once, and takes unused ones back", () => {
    const first = lease(null, limit, T0, 3);
    expect(first.result).toEqual({
      granted: 3,
      remaining: 2,
      resetSeconds: 3,
      retryAfterSeconds: 0,
      retryAfterMs: 0,
      limit: 60,
    });
    // Only what is left is granted; the shortfall says when the next one comes.
    const second = lease(first.state, limit, T0, 4);
    expect(second.result).toMatchObject({ granted: 2, remaining: 0, retryAfterSeconds: 1 });
    expect(lease(second.state, limit, T0, 1).result.granted).toBe(0);
    // Giving back 2 unused admissions makes exactly 2 available again, in the same call.
    const back = lease(second.state, limit, T0, 5, 2);
    expect(back.result).toMatchObject({ granted: 2, remaining: 0 });
    // Giving back more than was ever taken never overfills the bucket.
    expect(lease(null, limit, T0, 9, 9).result.granted).toBe(5);
    // After idle time the bucket refills at the rate: 2 s later, 2 more.
    expect(lease(second.state, limit, T0 + 2000, 9).result.granted).toBe(2);
  });

  it("rejects a nonsensical limit as a bug", () => {
    expect(() => take(null, { perMinute: 0, burst: 1 }, T0)).toThrow(RangeError);
    expect(() => take(null, { perMinute: 60, burst: 1.5 }, T0)).toThrow(RangeError);
  });
});
