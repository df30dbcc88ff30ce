/**
 * Two gateway isolates against the real crispy-ratelimit objects: each "isolate" is its own
 * LeasedLimiter and BudgetPool (what a gateway isolate holds per limit and per tenant), both
 * leasing from the same RateLimiter and QuotaLedger over the same RPC the gateway uses. Together
 * they never admit more than the limit nor spend more than the budget.
 */
import { env } from "cloudflare:workers";
import type { QuotaUsage, RateLimiterRef } from "@crispy/contracts";
import { contextFor } from "@crispy/testing";
import { describe, expect, it } from "vitest";
import { BudgetPool } from "../src/admission/budget-pool";
import { LeasedLimiter, leasePolicyFor } from "../src/admission/rate-lease";
import { registerTenant } from "./helpers";

describe("two gateway isolates on one tenant", () => {
  it("admit exactly the limit of 5× as many concurrent requests between them", async () => {
    const burst = 40;
    // 1 a minute: nothing refills during the test, so exactly the burst may be admitted.
    const config = registerTenant({ rateLimits: { tenant: { perMinute: 1, burst } } });
    const tenant = contextFor(config);
    const ref: RateLimiterRef = { scope: "tenant" };
    const isolate = () =>
      new LeasedLimiter(
        {
          lease: async (want, giveBack) => {
            const result = await env.RATELIMIT.leaseRate(tenant, ref, want, giveBack);
            if (!result.ok) throw new Error(result.error.message);
            return result.value;
          },
        },
        leasePolicyFor(burst),
      );
    const [a, b] = [isolate(), isolate()];
    const takes = await Promise.all(Array.from({ length: 5 * burst }, (_, i) => (i % 2 ? a : b).take()));
    expect(takes.filter((t) => t.allowed)).toHaveLength(burst);
    // The object agrees: nothing is left to lease to a third isolate.
    const third = await isolate().take();
    expect(third.allowed).toBe(false);
    expect(third.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("spend no more than the budget between them under concurrent turns", async () => {
    const budget = 50_000;
    const config = registerTenant({ budgets: { dailyTokens: budget, monthlyTokens: 1_000_000 } });
    const tenant = contextFor(config);
    const isolate = () => new BudgetPool({ lease: (request) => env.RATELIMIT.leaseBudget(tenant, request) });
    const pools = [isolate(), isolate()];
    const admitted = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const pool = pools[i % 2]!;
        const turn = pool.openTurn();
        // A turn reserves 1,500, half of them top up by 1,000 later (a queued or RAG turn), and use it all.
        const first = await pool.reserve(turn, 1_500);
        if (!first.ok) return 0;
        if (i % 2 === 0) await pool.reserve(turn, 1_000);
        const used = pool.reservedBy(turn);
        pool.settle(turn, used);
        return used;
      }),
    );
    await Promise.all(pools.map((pool) => pool.flush()));
    const usage = await env.RATELIMIT.usage(tenant);
    expect(usage.ok).toBe(true);
    const daily = (usage as { value: QuotaUsage }).value.daily;
    const spent = admitted.reduce((sum, n) => sum + n, 0);
    expect(daily.used).toBe(spent);
    expect(spent).toBeLessThanOrEqual(budget);
    // Both isolates were refused near the end rather than one of them overspending.
    expect(admitted.filter((n) => n === 0).length).toBeGreaterThan(0);
  });
});
