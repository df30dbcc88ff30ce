/**
 * An API key's own limits in crispy-ratelimit, read from the context the gateway built for the
 * key's request: its request rate (never above the tenant's perKey), its own budget ledger
 * (QuotaLedger `${tenantId}:key:${keyId}`, apart from the tenant's), its token rate.
 */
import { exports } from "cloudflare:workers";
import type { KeyLimits, RateLimiterRef, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { makeTenant, unwrap } from "./tenant";

const SLOW = 1;

function withKey(tenant: TenantContext, keyId: string, keyLimits?: KeyLimits): TenantContext {
  return { ...tenant, keyId, ...(keyLimits ? { keyLimits } : {}) };
}

const keyRef = (id: string): RateLimiterRef => ({ scope: "subject", subject: { kind: "key", id } });

describe("a key's own request rate", () => {
  it("is the key's, not the tenant's perKey, for the calling key only", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 10 } });
    const limited = withKey(tenant, "k-own", { requestsPerMinute: SLOW, burst: 3 });
    expect(unwrap(await exports.default.leaseRate(limited, keyRef("k-own"), 2, 0))).toMatchObject({
      granted: 2,
      remaining: 1,
    });
    expect(unwrap(await exports.default.leaseRate(limited, keyRef("k-own"), 3, 0))).toMatchObject({
      granted: 1,
      remaining: 0,
    });
    // Asking for more than its burst is a caller's bug.
    expect(await exports.default.leaseRate(limited, keyRef("k-own"), 4, 0)).toMatchObject({ ok: false });
    // Another key's limiter named in the same context is limited by the tenant's perKey.
    expect(unwrap(await exports.default.leaseRate(limited, keyRef("k-other"), 10, 0)).granted).toBe(10);
  });

  it("is never above the tenant's perKey, whatever the context carries", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    const greedy = withKey(tenant, "k", { requestsPerMinute: 1_000, burst: 1_000 });
    expect(unwrap(await exports.default.leaseRate(greedy, keyRef("k"), 2, 0)).granted).toBe(2);
    expect(unwrap(await exports.default.leaseRate(greedy, keyRef("k"), 1, 0)).granted).toBe(0);
  });

  it("refuses limits of the wrong shape with bad_request", async () => {
    const tenant = withKey(makeTenant(), "k", { burst: -1 } as KeyLimits);
    const result = await exports.default.leaseRate(tenant, keyRef("k"), 1, 0);
    expect(result).toMatchObject({ ok: false, error: { code: "bad_request" } });
  });
});

describe("a key's own budget ledger", () => {
  it("is apart from the tenant's and from other keys', bounded by the key's budget", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 10_000, monthlyTokens: 100_000 } });
    const key = withKey(tenant, "k-budget", { dailyTokens: 1_000 });
    const open = { leaseId: null, charge: 0, size: 1_000, min: 1_000 };
    const granted = unwrap(await exports.default.leaseBudget(key, open, "key"));
    expect(granted.size).toBe(1_000);
    expect(granted.daily.limit).toBe(1_000);
    const more = await exports.default.leaseBudget(key, { ...open, size: 1, min: 1 }, "key");
    expect(more).toMatchObject({ ok: false, error: { code: "budget_exceeded", details: { window: "daily" } } });
    // The tenant's ledger and another key's hold nothing of it.
    expect(unwrap(await exports.default.usage(key)).daily.reserved).toBe(0);
    const other = withKey(tenant, "k-else", { dailyTokens: 1_000 });
    expect(unwrap(await exports.default.usage(other, "key")).daily).toMatchObject({ reserved: 0, limit: 1_000 });
    expect(unwrap(await exports.default.usage(key, "key")).daily).toMatchObject({ reserved: 1_000, remaining: 0 });
  });

  it("converts a USD budget at the most expensive model's price", async () => {
    const tenant = makeTenant();
    // $2 per million tokens at most (the dearer of prompt and completion): $0.01 buys 5,000 tokens.
    const priced = {
      ...tenant,
      config: {
        ...tenant.config,
        pricing: {
          "local/echo-1": { promptUsdPerMillion: 1, completionUsdPerMillion: 2 },
          "local/echo-2": { promptUsdPerMillion: 0.5, completionUsdPerMillion: 0.5 },
        },
      },
    };
    const key = withKey(priced, "k-usd", { dailyUsd: 0.01 });
    expect(unwrap(await exports.default.usage(key, "key")).daily.limit).toBe(5_000);
  });

  it("needs the calling key and a known scope", async () => {
    const tenant = makeTenant();
    const open = { leaseId: null, charge: 0, size: 1, min: 1 };
    expect(await exports.default.leaseBudget(tenant, open, "key")).toMatchObject({ ok: true });
    const { keyId: _none, ...keyless } = tenant;
    expect(await exports.default.leaseBudget(keyless, open, "key")).toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });
    expect(await exports.default.usage(tenant, "everyone" as "key")).toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });
  });
});

describe("a key's token rate", () => {
  it("charges whole reservations, refuses what does not fit, and takes refunds", async () => {
    const tenant = withKey(makeTenant(), "k-tpm", { tokensPerMinute: 1_000 });
    expect(unwrap(await exports.default.chargeTokenRate(tenant, 800, 0))).toMatchObject({
      allowed: true,
      remaining: 200,
    });
    const refused = unwrap(await exports.default.chargeTokenRate(tenant, 300, 0));
    expect(refused).toMatchObject({ allowed: false, remaining: 200, limit: 1_000 });
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    // The first turn used only 300 of its 800: 500 come back, and 300 now fit.
    expect(unwrap(await exports.default.chargeTokenRate(tenant, 300, 500))).toMatchObject({
      allowed: true,
      remaining: 400,
    });
  });

  it("is each key's own, and needs the limit", async () => {
    const tenant = makeTenant();
    const a = withKey(tenant, "a", { tokensPerMinute: 100 });
    const b = withKey(tenant, "b", { tokensPerMinute: 100 });
    expect(unwrap(await exports.default.chargeTokenRate(a, 100, 0)).allowed).toBe(true);
    expect(unwrap(await exports.default.chargeTokenRate(b, 100, 0)).allowed).toBe(true);
    expect(await exports.default.chargeTokenRate(withKey(tenant, "c"), 1, 0)).toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });
  });
});
