/**
 * LeasedLimiter against an in-memory limiter with the real GCRA semantics of a lease (grant up to
 * what is left, take unused ones back), a fake clock and a counter of object calls.
 */
import type { RateLease } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { LeasedLimiter, leasePolicyFor, type RateSource } from "../src/admission/rate-lease";

/** A limit of `burst` that refills `perSecond` per second, shared by every isolate using it. */
class FakeLimiter {
  available: number;
  charged = 0;
  calls = 0;
  #last: number;
  constructor(
    readonly burst: number,
    readonly perSecond: number,
    readonly clock: { now(): number; advance?(ms: number): number },
    /** Each call takes this long (the clock moves by it): the object refills meanwhile. */
    readonly latencyMs = 0,
  ) {
    this.available = burst;
    this.#last = clock.now();
  }
  source(): RateSource {
    return {
      lease: async (want: number, giveBack: number): Promise<RateLease> => {
        this.calls += 1;
        if (this.latencyMs > 0) this.clock.advance?.(this.latencyMs);
        const now = this.clock.now();
        this.available = Math.min(this.burst, this.available + ((now - this.#last) / 1000) * this.perSecond + giveBack);
        this.#last = now;
        const granted = Math.min(want, Math.floor(this.available));
        this.available -= granted;
        this.charged += granted;
        return {
          granted,
          limit: this.perSecond * 60,
          remaining: Math.floor(this.available),
          resetSeconds: 1,
          retryAfterSeconds: granted < want ? 1 : 0,
          retryAfterMs: granted < want ? Math.ceil(1000 / Math.max(this.perSecond, 1)) : 0,
        };
      },
    };
  }
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("LeasedLimiter", () => {
  it("admits exactly the burst of 5× as many concurrent requests, and makes few object calls", async () => {
    const time = clock();
    const limit = new FakeLimiter(20, 0, time);
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(20), time);
    const takes = await Promise.all(Array.from({ length: 100 }, () => limiter.take()));
    expect(takes.filter((t) => t.allowed)).toHaveLength(20);
    expect(limit.charged).toBe(20);
    // maxLease is 2 here: 10 calls to hand out 20, then one that grants nothing.
    expect(limiter.calls).toBeLessThanOrEqual(11);
    for (const refused of takes.filter((t) => !t.allowed)) expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("never admits more than the limit across two isolates", async () => {
    const time = clock();
    const limit = new FakeLimiter(50, 0, time);
    const a = new LeasedLimiter(limit.source(), leasePolicyFor(50), time);
    const b = new LeasedLimiter(limit.source(), leasePolicyFor(50), time);
    const takes = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).take()));
    expect(takes.filter((t) => t.allowed)).toHaveLength(50);
  });

  it("grows leases with the rate it sees, so a busy isolate calls the object about once per lease", async () => {
    const time = clock();
    const limit = new FakeLimiter(100_000, 100_000, time);
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(100_000), time);
    // 2,000 requests/s for 5 s, one every 0.5 ms.
    for (let i = 0; i < 10_000; i++) {
      expect((await limiter.take()).allowed).toBe(true);
      time.advance(0.5);
    }
    expect(limiter.calls).toBeLessThan(40);
  });

  it("hands unused admissions back on its next call, after the lease's time is up", async () => {
    const time = clock();
    const limit = new FakeLimiter(100, 0, time);
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(100), time);
    expect((await limiter.take()).allowed).toBe(true);
    const heldByFirstLease = 100 - limit.available - 1;
    expect(heldByFirstLease).toBeGreaterThan(0);
    time.advance(1_500);
    expect((await limiter.take()).allowed).toBe(true);
    // Net charge = 2 used + what the second lease holds: the first lease's unused ones came back.
    const net = 100 - limit.available;
    expect(net).toBeLessThan(2 + 2 * heldByFirstLease);
    expect(net).toBeLessThanOrEqual(2 + leasePolicyFor(100).maxLease);
  });

  it("remembers a refusal instead of asking the object again for every refused request", async () => {
    const time = clock();
    const limit = new FakeLimiter(3, 0, time);
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(3), time);
    for (let i = 0; i < 3; i++) expect((await limiter.take()).allowed).toBe(true);
    const callsBefore = limit.calls;
    for (let i = 0; i < 50; i++) expect((await limiter.take()).allowed).toBe(false);
    expect(limit.calls - callsBefore).toBe(1);
  });

  it("refuses what a short lease cannot serve instead of queueing it for another round", async () => {
    const time = clock();
    // 100 ms per call while the limit refills 10/s: every call finds one new admission, never 0.
    const limit = new FakeLimiter(100, 10, time, 100);
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(100), time);
    const started = time.now();
    const takes = await Promise.all(Array.from({ length: 200 }, () => limiter.take()));
    const allowed = takes.filter((t) => t.allowed).length;
    expect(allowed).toBeGreaterThanOrEqual(100);
    expect(allowed).toBeLessThan(130);
    // The refused were answered after the burst's calls, not after one more call per admission the
    // refill makes (which would serve all 200, the last ones ten seconds late).
    expect(time.now() - started).toBeLessThan(3_000);
  });

  it("remembers a refusal only until the object's next admission is due", async () => {
    const time = clock();
    const limit = new FakeLimiter(2, 100, time); // one more every 10 ms
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(2), time);
    for (let i = 0; i < 2; i++) expect((await limiter.take()).allowed).toBe(true);
    expect((await limiter.take()).allowed).toBe(false);
    time.advance(15);
    expect((await limiter.take()).allowed).toBe(true);
  });

  it("gives an admission back when the other limit refused the request", async () => {
    const time = clock();
    const limit = new FakeLimiter(1, 0, time);
    const limiter = new LeasedLimiter(limit.source(), leasePolicyFor(1), time);
    expect((await limiter.take()).allowed).toBe(true);
    limiter.putBack();
    expect((await limiter.take()).allowed).toBe(true);
    expect(limit.charged).toBe(1);
  });

  it("fails closed: an unreachable limiter is an exception for every waiting request", async () => {
    const limiter = new LeasedLimiter({ lease: () => Promise.reject(new Error("down")) }, leasePolicyFor(10));
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => limiter.take()));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
  });
});
