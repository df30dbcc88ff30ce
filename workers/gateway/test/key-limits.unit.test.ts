/**
 * A key's own limits, pure: the rate and budgets it is enforced with (never above its tenant's;
 * USD at the most expensive model's price), the checks when they are set, the merge patch, and a
 * turn's reservation held on the tenant's and the key's budgets together or on neither.
 */
import {
  type BudgetLease,
  type KeyLimits,
  keyRateLimit,
  keyTokenBudgets,
  type LeaseRequest,
  maxPricePerMillionTokens,
  type RpcResult,
} from "@crispy/contracts";
import { MODELS, testConfig } from "@crispy/testing";
import { describe, expect, it } from "vitest";
import { BudgetPool } from "../src/admission/budget-pool";
import { keyRefusal } from "../src/admission/key-budget";
import { GatewayTurnBudget } from "../src/admission/turn-budget";
import { checkKeyLimits, mergeKeyLimits } from "../src/auth/key-limits";
import type { HttpError } from "../src/http/errors";

const config = testConfig({
  rateLimits: { perKey: { perMinute: 120, burst: 20 } },
  budgets: { dailyTokens: 100_000, monthlyTokens: 1_000_000 },
});

describe("a key's request rate", () => {
  it("is the tenant's per-key limit unless the key has its own, never above it", () => {
    expect(keyRateLimit(config, null)).toEqual({ perMinute: 120, burst: 20 });
    expect(keyRateLimit(config, { dailyTokens: 5 })).toEqual({ perMinute: 120, burst: 20 });
    // Without its own burst, a minute of its own rate at most.
    expect(keyRateLimit(config, { requestsPerMinute: 6 })).toEqual({ perMinute: 6, burst: 6 });
    expect(keyRateLimit(config, { requestsPerMinute: 60 })).toEqual({ perMinute: 60, burst: 20 });
    expect(keyRateLimit(config, { burst: 5 })).toEqual({ perMinute: 120, burst: 5 });
    expect(keyRateLimit(config, { requestsPerMinute: 10_000, burst: 10_000 })).toEqual({ perMinute: 120, burst: 20 });
  });
});

describe("a key's token budgets", () => {
  const priced = testConfig({
    budgets: { dailyTokens: 100_000, monthlyTokens: 1_000_000 },
    pricing: {
      [MODELS.echo]: { promptUsdPerMillion: 1, completionUsdPerMillion: 4 },
      [MODELS.echo2]: { promptUsdPerMillion: 8, completionUsdPerMillion: 2 },
    },
  });

  it("are none for a key without budgets, or with USD ones while nothing is priced", () => {
    expect(keyTokenBudgets(config, null)).toBeNull();
    expect(keyTokenBudgets(config, { requestsPerMinute: 5, tokensPerMinute: 100 })).toBeNull();
    expect(keyTokenBudgets(config, { dailyUsd: 5 })).toBeNull();
  });

  it("take the least of tokens, USD at the dearest model's price, and the tenant's", () => {
    expect(maxPricePerMillionTokens(priced)).toBe(8);
    // $0.08 at $8 per million: 10,000 tokens; 20,000 tokens would be looser.
    expect(keyTokenBudgets(priced, { dailyTokens: 20_000, dailyUsd: 0.08 })).toMatchObject({
      dailyTokens: 10_000,
      monthlyTokens: 1_000_000,
      units: { daily: "usd", monthly: null },
    });
    expect(keyTokenBudgets(priced, { dailyTokens: 5_000, dailyUsd: 0.08 })?.units.daily).toBe("tokens");
    expect(keyTokenBudgets(priced, { monthlyTokens: 5_000_000 })).toMatchObject({
      monthlyTokens: 1_000_000,
      units: { monthly: "tokens" },
    });
    // USD amounts convert without float drift: $0.07 at $7 per million is exactly 10,000.
    const seven = testConfig({
      pricing: { [MODELS.echo]: { promptUsdPerMillion: 7, completionUsdPerMillion: 7 } },
    });
    expect(keyTokenBudgets(seven, { monthlyUsd: 0.07 })?.monthlyTokens).toBe(10_000);
  });
});

describe("checking a key's limits against its tenant's", () => {
  const message = (limits: KeyLimits): string | null => {
    try {
      checkKeyLimits(config, limits);
      return null;
    } catch (error) {
      return (error as HttpError).message;
    }
  };

  it("allows what fits and names the first field that does not", () => {
    expect(message({ requestsPerMinute: 120, burst: 20, dailyTokens: 100_000, tokensPerMinute: 1_000_000 })).toBeNull();
    expect(message({ requestsPerMinute: 121 })).toBe(
      "limits.requestsPerMinute: must be at most the tenant's 120 (rateLimits.perKey.perMinute)",
    );
    expect(message({ dailyTokens: 100_001 })).toBe(
      "limits.dailyTokens: must be at most the tenant's 100000 (budgets.dailyTokens)",
    );
    expect(message({ dailyUsd: 3, monthlyUsd: 2 })).toMatch(/^limits.dailyUsd: cannot exceed monthlyUsd/);
  });
});

describe("merging a change of limits", () => {
  it("sets what it gives, removes what it nulls, keeps the rest", () => {
    const current: KeyLimits = { requestsPerMinute: 10, dailyTokens: 500 };
    expect(mergeKeyLimits(current, { dailyTokens: null, tokensPerMinute: 900 })).toEqual({
      requestsPerMinute: 10,
      tokensPerMinute: 900,
    });
    expect(mergeKeyLimits(current, { requestsPerMinute: null, dailyTokens: null })).toBeNull();
    expect(mergeKeyLimits(current, null)).toBeNull();
    expect(mergeKeyLimits(null, { burst: 3 })).toEqual({ burst: 3 });
  });
});

/** A ledger that grants what fits its limit (no lease fractions): enough to see what a turn holds. */
function ledger(limit: number) {
  let held = 0;
  let used = 0;
  const source = {
    async lease(request: LeaseRequest): Promise<RpcResult<BudgetLease>> {
      used += request.charge;
      held = Math.max(0, held - request.charge);
      if (request.size > held && request.min > limit - used) {
        return {
          ok: false,
          error: {
            code: "budget_exceeded",
            message: "daily token budget exceeded: too many",
            details: { window: "daily" },
          },
        };
      }
      held = Math.min(request.size, limit - used);
      const usage = { limit, used, reserved: held, remaining: limit - used - held, resetsAt: "" };
      return {
        ok: true,
        value: { leaseId: held > 0 ? "lease" : null, size: held, expiresAt: null, daily: usage, monthly: usage },
      };
    },
  };
  return { pool: new BudgetPool(source), used: () => used };
}

const ctx = { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext;

describe("a turn on the tenant's and the key's budgets", () => {
  it("holds a reservation on both or neither, and tells the key's refusal as the key's", async () => {
    const tenant = ledger(1_000_000);
    const key = ledger(1_000);
    const budgets = keyTokenBudgets(config, { dailyTokens: 1_000 })!;
    const refusal = keyRefusal("key_abc", { dailyTokens: 1_000 }, budgets);
    const turn = new GatewayTurnBudget(tenant.pool, ctx, [{ pool: key.pool, refusal }]);
    expect(await turn.reserve(600)).toEqual({ ok: true, value: { reserved: 600 } });
    const refused = await turn.reserve(600);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.message).toBe("key key_abc's daily token budget (1000) exceeded: too many");
      expect(refused.error.details).toMatchObject({ budget: "key", keyId: "key_abc", unit: "tokens" });
    }
    // What the tenant's pool granted for the refused 600 was given back at once: the turn holds 900, not 1,500.
    expect(await turn.reserve(300)).toEqual({ ok: true, value: { reserved: 900 } });
    await turn.settle(850);
    await tenant.pool.flush();
    await key.pool.flush();
    expect(tenant.used()).toBe(850);
    expect(key.used()).toBe(850);
  });
});
