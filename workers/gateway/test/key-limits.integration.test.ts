/**
 * An API key's own limits through the gateway, with the real crispy-ratelimit beside it: its
 * request rate, token rate and daily/monthly token or USD budgets are enforced like the tenant's,
 * refuse that key while the tenant's other keys are served, are each at most the tenant's (a 400
 * naming the field), show in the key listings, and change through PATCH at once on this isolate.
 * Each test has a tenant of its own.
 */
import { env } from "cloudflare:workers";
import type { ApiKeySummary, CreatedApiKey, KeyLimits, ListedApiKey, Scope, TenantContext } from "@crispy/contracts";
import { contextFor, MODELS } from "@crispy/testing";
import { describe, expect, it } from "vitest";
import { routeBudget } from "../src/admission/budget";
import { bearer, call, eventually, expectError, OPERATOR_TOKEN, registerTenant } from "./helpers";

/**
 * Operator calls, each from its own client IP: these tests make more of them than the operator
 * API's per-IP limit allows in a minute (that limit has tests of its own).
 */
function operatorHeaders(): Record<string, string> {
  const octet = () => Math.floor(Math.random() * 250) + 1;
  return {
    authorization: `Bearer ${OPERATOR_TOKEN}`,
    "content-type": "application/json",
    "cf-connecting-ip": `10.${octet()}.${octet()}.${octet()}`,
  };
}
const json = (key: string) => bearer(key, { "content-type": "application/json" });

async function createKey(
  tenantId: string,
  scopes: Scope[],
  extra: Record<string, unknown> = {},
): Promise<CreatedApiKey> {
  const response = await createWith(tenantId, { scopes, ...extra });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json<CreatedApiKey>();
}

function completion(key: string, maxTokens: number, content = "Name a lighthouse."): Promise<Response> {
  return call("/v1/chat/completions", {
    method: "POST",
    headers: json(key),
    body: JSON.stringify({ model: MODELS.echo, messages: [{ role: "user", content }], max_tokens: maxTokens }),
  });
}

function createWith(tenantId: string, body: Record<string, unknown>): Promise<Response> {
  return call(`/admin/tenants/${tenantId}/keys`, {
    method: "POST",
    headers: operatorHeaders(),
    body: JSON.stringify(body),
  });
}

function patch(tenantId: string, keyId: string, body: unknown): Promise<Response> {
  return call(`/admin/tenants/${tenantId}/keys/${keyId}`, {
    method: "PATCH",
    headers: operatorHeaders(),
    body: JSON.stringify(body),
  });
}

async function listed(tenantId: string, keyId: string): Promise<ListedApiKey> {
  const response = await call(`/admin/tenants/${tenantId}/keys`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  const { keys } = await response.json<{ keys: ListedApiKey[] }>();
  return keys.find((key) => key.id === keyId)!;
}

/** A key's listed usage once its isolate reported everything (usage settles about a second later). */
async function settledKeyUsage(tenantId: string, keyId: string): Promise<NonNullable<ListedApiKey["usage"]>> {
  let usage: ListedApiKey["usage"];
  await eventually(async () => {
    usage = (await listed(tenantId, keyId)).usage;
    expect(usage?.daily.reserved).toBe(0);
  });
  return usage!;
}

describe("a key's own budget", () => {
  it("refuses the key once its daily tokens are spent, while the tenant's other keys are served", async () => {
    const tenant = registerTenant({ budgets: { dailyTokens: 1_000_000, monthlyTokens: 10_000_000 } });
    const limited = await createKey(tenant.id, ["chat"], { limits: { dailyTokens: 3_000 } });
    const free = await createKey(tenant.id, ["chat"]);
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 20 && !refusal; i++) {
      const response = await completion(limited.key, 500, "lighthouse ".repeat(200));
      statuses.push(response.status);
      if (response.status === 429) refusal = response;
      else expect(response.status, await response.text()).toBe(200);
    }
    expect(statuses.filter((s) => s === 200).length, JSON.stringify(statuses)).toBeGreaterThan(0);
    const error = await expectError(refusal!, 429, "budget_exceeded");
    expect(error.message).toContain(`key ${limited.id}'s daily token budget (3000) exceeded`);
    expect(error.details).toMatchObject({ budget: "key", keyId: limited.id, window: "daily", unit: "tokens" });
    expect(Number(refusal!.headers.get("retry-after"))).toBeGreaterThan(0);

    // The tenant's budget is far from spent: another key of it is served the same request.
    const other = await completion(free.key, 500, "lighthouse ".repeat(200));
    expect(other.status, await other.clone().text()).toBe(200);
    const spent = await settledKeyUsage(tenant.id, limited.id);
    expect(spent.daily.used).toBeGreaterThan(0);
    expect(spent.daily.used).toBeLessThanOrEqual(3_000);
    expect(spent.daily.limit).toBe(3_000);
  });

  it("converts a USD budget at the most expensive allowed model's price", async () => {
    const price = { promptUsdPerMillion: 2, completionUsdPerMillion: 10 };
    const tenant = registerTenant({
      pricing: Object.fromEntries(Object.values(MODELS).map((model) => [model, price])),
    });
    // $0.02 at $10 per million tokens: 2,000 tokens.
    const limited = await createKey(tenant.id, ["chat"], { limits: { dailyUsd: 0.02 } });
    const free = await createKey(tenant.id, ["chat"]);
    const refused = await completion(limited.key, 2_500);
    const error = await expectError(refused, 429, "budget_exceeded");
    expect(error.message).toContain(`key ${limited.id}'s daily USD budget ($0.02`);
    expect(error.details).toMatchObject({ budget: "key", unit: "usd" });
    expect((await completion(limited.key, 100)).status).toBe(200);
    expect((await completion(free.key, 2_500)).status).toBe(200);
    const usage = await settledKeyUsage(tenant.id, limited.id);
    expect(usage.daily.limit).toBe(2_000);
  });

  it("is checked with the tenant's budget: a turn must fit both", async () => {
    const tenant = registerTenant({ budgets: { dailyTokens: 1_500, monthlyTokens: 1_000_000 } });
    const limited = await createKey(tenant.id, ["chat"], { limits: { monthlyTokens: 500_000 } });
    // The key's own budget has room; the tenant's does not: the tenant's refusal is the answer.
    const error = await expectError(await completion(limited.key, 2_000), 429, "budget_exceeded");
    expect(error.message).not.toContain(limited.id);
    expect(error.details?.budget).toBeUndefined();
  });
});

describe("a key's own request rate", () => {
  it("refuses at the key's rate while the tenant's other keys are served", async () => {
    const tenant = registerTenant();
    const slow = await createKey(tenant.id, ["chat"], { limits: { requestsPerMinute: 3 } });
    const fast = await createKey(tenant.id, ["chat"]);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => call("/v1/tenant", { headers: bearer(slow.key) })),
    );
    const statuses = responses.map((r) => r.status);
    // Burst defaults to a minute of the key's own rate: 3 at once.
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    const error = await expectError(responses.find((r) => r.status === 429)!, 429, "rate_limited");
    expect(error.details).toMatchObject({ scope: "subject", limit: 3 });
    expect(responses.find((r) => r.status === 200)!.headers.get("ratelimit-limit")).toBe("3");
    const others = await Promise.all(
      Array.from({ length: 8 }, () => call("/v1/tenant", { headers: bearer(fast.key) })),
    );
    expect(others.map((r) => r.status)).toEqual(Array(8).fill(200));
  });
});

describe("a key's token rate", () => {
  it("admits the reservations that fit its tokens per minute and refuses the next", async () => {
    const tenant = registerTenant();
    const limited = await createKey(tenant.id, ["chat"], { limits: { tokensPerMinute: 2_500 } });
    const free = await createKey(tenant.id, ["chat"]);
    // Each reserves about 1,100 tokens of prompt (and 16 of completion) and uses nearly all of
    // them: two fit in 2,500 a minute, a third does not.
    const long = "lighthouse ".repeat(400);
    expect((await completion(limited.key, 16, long)).status).toBe(200);
    expect((await completion(limited.key, 16, long)).status).toBe(200);
    const refused = await completion(limited.key, 16, long);
    const error = await expectError(refused, 429, "rate_limited");
    expect(error.message).toContain(`key ${limited.id}'s token rate limit (2500 tokens/min) exceeded`);
    expect(error.details).toMatchObject({ scope: "key", limit: "tokensPerMinute", tokensPerMinute: 2_500 });
    expect((await completion(free.key, 16, long)).status).toBe(200);
  });

  it("gives back what a turn reserved but did not use", async () => {
    const tenant = registerTenant();
    const limited = await createKey(tenant.id, ["chat"], { limits: { tokensPerMinute: 2_500 } });
    // Each reserves 1,200 tokens of completion and uses a few dozen: without the refunds the third
    // would wait some 30 s for the rate to refill.
    for (let turn = 0; turn < 3; turn++) {
      await eventually(async () => expect((await completion(limited.key, 1_200)).status).toBe(200), 3_000);
    }
  });

  it("refuses a reservation larger than a minute of it outright", async () => {
    const tenant = registerTenant();
    const limited = await createKey(tenant.id, ["chat"], { limits: { tokensPerMinute: 1_000 } });
    const error = await expectError(await completion(limited.key, 2_000), 429, "rate_limited");
    expect(error.message).toContain("can ever admit");
  });
});

describe("keys without limits of their own", () => {
  it("make no call to crispy-ratelimit but the tenant's budget ledger", async () => {
    const tenant = registerTenant();
    const calls: string[] = [];
    const ratelimit = env.RATELIMIT;
    // The real crispy-ratelimit, every call it gets written down.
    const counted = {
      leaseBudget: (...args: Parameters<typeof ratelimit.leaseBudget>) => {
        calls.push(`leaseBudget:${args[2] ?? "tenant"}`);
        return ratelimit.leaseBudget(...args);
      },
      chargeTokenRate: (...args: Parameters<typeof ratelimit.chargeTokenRate>) => {
        calls.push("chargeTokenRate");
        return ratelimit.chargeTokenRate(...args);
      },
      leaseRate: (...args: Parameters<typeof ratelimit.leaseRate>) => {
        calls.push("leaseRate");
        return ratelimit.leaseRate(...args);
      },
    } as unknown as typeof ratelimit;
    const waits: Promise<unknown>[] = [];
    const ctx = {
      waitUntil: (p: Promise<unknown>) => waits.push(p),
      passThroughOnException() {},
    } as unknown as ExecutionContext;
    const plain: TenantContext = contextFor(tenant);
    const { budget } = await routeBudget({ ...env, RATELIMIT: counted }, ctx, plain, "caller", 100);
    await budget.settle(10);
    expect(calls).toEqual(["leaseBudget:tenant"]);

    calls.length = 0;
    const withLimits: TenantContext = {
      ...contextFor(tenant),
      keyId: "key-limited",
      keyLimits: { dailyTokens: 5_000, tokensPerMinute: 5_000 },
    };
    const limited = await routeBudget({ ...env, RATELIMIT: counted }, ctx, withLimits, "caller", 100);
    await limited.budget.settle(10);
    // The key's own ledger, and its token rate charged then refunded the 90 unused; the tenant's
    // lease this isolate already holds needs no call.
    expect(calls.sort()).toEqual(["chargeTokenRate", "chargeTokenRate", "leaseBudget:key"]);
    await Promise.allSettled(waits);
  });
});

describe("setting a key's limits", () => {
  it("refuses limits above the tenant's with a 400 naming the field", async () => {
    const tenant = registerTenant({
      rateLimits: { perKey: { perMinute: 120, burst: 20 } },
      budgets: { dailyTokens: 1_000_000, monthlyTokens: 5_000_000 },
    });
    const cases: Array<[KeyLimits | Record<string, unknown>, string]> = [
      [{ dailyTokens: 1_000_001 }, "limits.dailyTokens: must be at most the tenant's 1000000"],
      [{ monthlyTokens: 6_000_000 }, "limits.monthlyTokens: must be at most the tenant's 5000000"],
      [{ requestsPerMinute: 121 }, "limits.requestsPerMinute: must be at most the tenant's 120"],
      [{ burst: 21 }, "limits.burst: must be at most the tenant's 20"],
      [{ dailyTokens: 10, monthlyTokens: 5 }, "limits.dailyTokens: cannot exceed monthlyTokens"],
      [{ dailyUsd: 5 }, "limits.dailyUsd: tenant"],
      [{ tokensPerMinute: 0 }, "limits.tokensPerMinute"],
      [{ dailyUsd: 0.001 }, "limits.dailyUsd"],
      [{ perSecond: 5 }, "limits"],
    ];
    for (const [limits, message] of cases) {
      const error = await expectError(
        await createWith(tenant.id, { scopes: ["chat"], limits }),
        400,
        "validation_failed",
      );
      expect(error.message, JSON.stringify(limits)).toContain(message);
    }
    const key = await createKey(tenant.id, ["chat"]);
    const error = await expectError(
      await patch(tenant.id, key.id, { limits: { burst: 100 } }),
      400,
      "validation_failed",
    );
    expect(error.message).toContain("limits.burst: must be at most the tenant's 20");
  });

  it("shows each key's limits, and a budgeted key's usage, in both listings", async () => {
    const tenant = registerTenant();
    const admin = await createKey(tenant.id, ["admin"]);
    const limits = { requestsPerMinute: 30, tokensPerMinute: 10_000, dailyTokens: 50_000 };
    const limited = await createKey(tenant.id, ["chat"], { limits });
    expect(limited.limits).toEqual(limits);
    const response = await call("/v1/keys", { headers: bearer(admin.key) });
    expect(response.status).toBe(200);
    const { keys } = await response.json<{ keys: ListedApiKey[] }>();
    const mine = keys.find((k) => k.id === limited.id)!;
    expect(mine.limits).toEqual(limits);
    expect(mine.usage?.daily).toMatchObject({ limit: 50_000, used: 0 });
    const plain = keys.find((k) => k.id === admin.id)!;
    expect(plain.limits).toBeNull();
    expect(plain.usage).toBeUndefined();
    expect((await listed(tenant.id, limited.id)).limits).toEqual(limits);
  });

  it("PATCH merges limits (null removes one), renames, and the change applies at once", async () => {
    const tenant = registerTenant();
    const key = await createKey(tenant.id, ["chat"]);
    expect((await call("/v1/tenant", { headers: bearer(key.key) })).status).toBe(200);

    const first = await patch(tenant.id, key.id, { limits: { requestsPerMinute: 2, dailyTokens: 9_000 } });
    expect(first.status, await first.clone().text()).toBe(200);
    expect((await first.json<ApiKeySummary>()).limits).toEqual({ requestsPerMinute: 2, dailyTokens: 9_000 });
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => call("/v1/tenant", { headers: bearer(key.key) })),
    );
    expect(responses.filter((r) => r.status === 200).length).toBeLessThanOrEqual(2);
    expect(responses.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(4);
    expect(responses.find((r) => r.status === 429)!.headers.get("ratelimit-limit")).toBe("2");

    const second = await patch(tenant.id, key.id, {
      name: "renamed",
      limits: { requestsPerMinute: null, monthlyTokens: 90_000 },
    });
    expect(await second.json<ApiKeySummary>()).toMatchObject({
      name: "renamed",
      limits: { dailyTokens: 9_000, monthlyTokens: 90_000 },
    });
    const cleared = await patch(tenant.id, key.id, { limits: null });
    expect((await cleared.json<ApiKeySummary>()).limits).toBeNull();
    expect((await listed(tenant.id, key.id)).limits).toBeNull();
  });

  it("PATCH refuses another tenant's key, a revoked key, and an empty change", async () => {
    const a = registerTenant();
    const b = registerTenant();
    const key: CreatedApiKey = await createKey(a.id, ["chat"]);
    await expectError(await patch(b.id, key.id, { name: "x" }), 404, "not_found");
    await expectError(await patch(a.id, key.id, {}), 400, "validation_failed");
    await call(`/admin/tenants/${a.id}/keys/${key.id}`, { method: "DELETE", headers: operatorHeaders() });
    await expectError(await patch(a.id, key.id, { name: "x" }), 409, "conflict");
    await expectError(
      await call(`/admin/tenants/${a.id}/keys/${key.id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
      401,
      "unauthorized",
    );
  });
});
