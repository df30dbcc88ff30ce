/**
 * Tenant erasure in the ratelimit worker (src/erase.ts) against its real Durable Objects: the
 * tenant-wide limiter and ledger, each key's request-rate and token-rate limiters and budget ledger
 * (for the key ids passed), and the usage log go; another tenant's stay; only the erasure context
 * may erase.
 */
import { env, exports } from "cloudflare:workers";
import { type EraseReport, type RequestPoint, type TenantContext, erasureContext } from "@crispy/contracts";
import { contextFor, testConfig, unwrap } from "@crispy/testing";
import { describe, expect, it } from "vitest";

const ratelimit = exports.default;

function eraser(tenant: TenantContext): TenantContext {
  return erasureContext(tenant.config, `erase-${crypto.randomUUID()}`, tenant.traceparent);
}

/** A context for key `keyId` of `config`, with a token rate and a daily budget of its own. */
function asKey(config: TenantContext["config"], keyId: string): TenantContext {
  return { ...contextFor(config, ["chat"]), keyId, keyLimits: { tokensPerMinute: 10_000, dailyTokens: 50_000 } };
}

function point(keyId: string): RequestPoint {
  return {
    kind: "request",
    ts: Date.now(),
    requestId: crypto.randomUUID(),
    keyId,
    route: "/v1/chat",
    method: "POST",
    status: 200,
    latencyMs: 10,
  };
}

/** Uses every object the tenant can have: limiters, token rates, both ledgers, usage rows. */
async function use(config: TenantContext["config"], keyIds: string[]): Promise<void> {
  for (const keyId of keyIds) {
    const key = asKey(config, keyId);
    unwrap(await ratelimit.leaseRate(key, { scope: "subject", subject: { kind: "key", id: keyId } }, 2, 0));
    unwrap(await ratelimit.leaseRate(key, { scope: "tenant" }, 2, 0));
    unwrap(await ratelimit.chargeTokenRate(key, 500, 0));
    const lease = unwrap(await ratelimit.leaseBudget(key, { leaseId: null, charge: 0, size: 100, min: 100 }));
    unwrap(await ratelimit.leaseBudget(key, { leaseId: lease.leaseId, charge: 40, size: 0, min: 0 }));
    const own = unwrap(await ratelimit.leaseBudget(key, { leaseId: null, charge: 0, size: 100, min: 100 }, "key"));
    unwrap(await ratelimit.leaseBudget(key, { leaseId: own.leaseId, charge: 40, size: 0, min: 0 }, "key"));
    unwrap(await ratelimit.recordUsage(key, [point(keyId), point(keyId)]));
  }
}

describe("eraseTenant", () => {
  it("erases the tenant's limiters, ledgers and usage rows; another tenant keeps its own", async () => {
    const config = testConfig();
    const otherConfig = testConfig();
    const keyIds = ["key_a", "key_b"];
    await use(config, keyIds);
    await use(otherConfig, ["key_a"]);
    const tenant = contextFor(config);
    expect(unwrap(await ratelimit.usage(asKey(config, "key_a"))).daily.used).toBe(80);

    const counted = unwrap(await ratelimit.eraseTenant(eraser(tenant), { mode: "count", keyIds }));
    // 1 tenant-wide + 2 per key; each ledger holds a day and a month row.
    expect(counted).toEqual({
      done: false,
      counts: { rateLimiters: 5, ledgerRows: 6, usageRequests: 4, usageModelCalls: 0 },
    });

    const calls: EraseReport[] = [];
    for (let call = 0; call < 10 && !calls.at(-1)?.done; call++) {
      calls.push(unwrap(await ratelimit.eraseTenant(eraser(tenant), { keyIds, batchSize: 3 })));
    }
    expect(calls.map((c) => c.done)).toEqual([false, true]);
    expect(calls[0]!.counts).toEqual({ rateLimiters: 5, ledgerRows: 6, usageRequests: 3, usageModelCalls: 0 });
    expect(calls[1]!.counts).toEqual({ rateLimiters: 0, ledgerRows: 0, usageRequests: 1, usageModelCalls: 0 });
    expect(unwrap(await ratelimit.eraseTenant(eraser(tenant), { mode: "count", keyIds }))).toEqual({
      done: true,
      counts: { rateLimiters: 0, ledgerRows: 0, usageRequests: 0, usageModelCalls: 0 },
    });

    // What the tenant's own RPCs see: no usage, full buckets, an empty report.
    const key = asKey(config, "key_a");
    expect(unwrap(await ratelimit.usage(key)).daily).toMatchObject({ used: 0, reserved: 0 });
    expect(unwrap(await ratelimit.usage(key, "key")).daily).toMatchObject({ used: 0, reserved: 0 });
    const fresh = unwrap(
      await ratelimit.leaseRate(key, { scope: "subject", subject: { kind: "key", id: "key_a" } }, 1, 0),
    );
    expect(fresh.remaining).toBe(config.rateLimits.perKey.burst - 1);
    expect(await usageLogCounts(config.id)).toEqual({ requests: 0, modelCalls: 0 });

    const other = asKey(otherConfig, "key_a");
    expect(unwrap(await ratelimit.usage(other)).daily.used).toBe(40);
    expect(unwrap(await ratelimit.usage(other, "key")).daily.used).toBe(40);
    expect(await usageLogCounts(otherConfig.id)).toEqual({ requests: 2, modelCalls: 0 });
  });

  it("refuses an API request's context and too many key ids", async () => {
    const config = testConfig();
    await use(config, ["key_a"]);
    const key = asKey(config, "key_a");
    expect(await ratelimit.eraseTenant(key)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const tooMany = Array.from({ length: 51 }, (_, i) => `key_${i}`);
    const refused = await ratelimit.eraseTenant(eraser(contextFor(config)), { keyIds: tooMany });
    expect(refused).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(unwrap(await ratelimit.usage(key)).daily.used).toBe(40);
  });
});

/** Rows the tenant's UsageLog object holds, asked of the object itself. */
async function usageLogCounts(tenantId: string) {
  return env.USAGE_LOG.getByName(tenantId).counts();
}
