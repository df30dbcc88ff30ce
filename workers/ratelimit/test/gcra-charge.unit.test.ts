/** The all-or-nothing GCRA charge behind a key's token-rate limit (gcra.ts `charge`). */
import { describe, expect, it } from "vitest";
import { charge, type GcraState } from "../src/gcra";

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
// 6,000 tokens per minute (100 per second), a minute's worth at once.
const LIMIT = { perMinute: 6_000, burst: 6_000 };

describe("GCRA charge (units per request)", () => {
  it("charges a request's tokens wholly or not at all", () => {
    let state: GcraState | null = null;
    const first = charge(state, LIMIT, T0, 5_000);
    expect(first.result).toMatchObject({ allowed: true, remaining: 1_000, retryAfterMs: 0 });
    state = first.state;
    // 2,000 do not fit in the 1,000 left: nothing is charged, and 1,000 more come in 10 s.
    const refused = charge(state, LIMIT, T0, 2_000);
    expect(refused.result).toMatchObject({ allowed: false, remaining: 1_000, retryAfterMs: 10_000 });
    expect(refused.state.tat).toBe(state.tat);
    expect(charge(state, LIMIT, T0, 1_000).result).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("refills at the rate: the refused charge fits once its wait has passed", () => {
    const { state } = charge(null, LIMIT, T0, 6_000);
    const early = charge(state, LIMIT, T0 + 4_999, 500);
    expect(early.result.allowed).toBe(false);
    expect(charge(state, LIMIT, T0 + 5_000, 500).result.allowed).toBe(true);
  });

  it("takes unused tokens back before charging, never fuller than full", () => {
    const { state } = charge(null, LIMIT, T0, 6_000);
    const refunded = charge(state, LIMIT, T0, 4_000, 4_000);
    expect(refunded.result).toMatchObject({ allowed: true, remaining: 0 });
    const overRefunded = charge(null, LIMIT, T0, 0, 10_000);
    expect(overRefunded.result.remaining).toBe(6_000);
  });

  it("never admits a charge above the burst", () => {
    const result = charge(null, LIMIT, T0, 6_001).result;
    expect(result.allowed).toBe(false);
    expect(result.retryAfterMs).toBeGreaterThanOrEqual(1);
  });
});
