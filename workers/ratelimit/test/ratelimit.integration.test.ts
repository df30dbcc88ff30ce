import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { RateLimitDecision, RateLimitSubject, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { makeTenant, unwrap, withConfig } from "./tenant";

// perMinute 1 ⇒ one request replenished per minute: nothing refills while a test runs.
const SLOW = 1;

async function limit(tenant: TenantContext, subject: RateLimitSubject): Promise<RateLimitDecision> {
  return unwrap(await exports.default.limit(tenant, subject));
}

function key(id: string): RateLimitSubject {
  return { kind: "key", id };
}

describe("limit (subject limit)", () => {
  it("admits exactly the burst out of 5× as many concurrent requests", async () => {
    const burst = 10;
    const tenant = makeTenant({
      perKey: { perMinute: SLOW, burst },
      tenant: { perMinute: SLOW, burst: 1000 },
    });
    const decisions = await Promise.all(Array.from({ length: 5 * burst }, () => limit(tenant, key("k1"))));

    const admitted = decisions.filter((d) => d.allowed);
    expect(admitted).toHaveLength(burst);
    expect(admitted.map((d) => d.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: burst }, (_, i) => i));
    const refused = decisions.filter((d) => !d.allowed);
    expect(refused).toHaveLength(4 * burst);
    for (const d of refused) {
      expect(d).toMatchObject({ scope: "subject", limit: SLOW, remaining: 0 });
      expect(d.retryAfterSeconds).toBe(60);
    }

    // The 40 refusals were refunded to the tenant-wide limit: it has only the 10 admissions (+1).
    const wideKeys = withConfig(tenant, { perKey: { perMinute: SLOW, burst: 5000 } });
    expect(await limit(wideKeys, key("k2"))).toMatchObject({
      allowed: true,
      scope: "tenant",
      remaining: 1000 - burst - 1,
    });
  });

  it("survives the object being evicted", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    expect((await limit(tenant, key("k"))).allowed).toBe(true);
    expect((await limit(tenant, key("k"))).allowed).toBe(true);

    const stub = env.RATE_LIMITER.getByName(`${tenant.tenantId}:key:k`);
    await expect(runInDurableObject(stub, (_, state) => state.abort("evict"))).rejects.toThrow();

    expect(await limit(tenant, key("k"))).toMatchObject({ allowed: false, scope: "subject" });
  });

  it("applies a changed config to the next request without resetting the count", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    await limit(tenant, key("k"));
    await limit(tenant, key("k"));
    expect((await limit(tenant, key("k"))).allowed).toBe(false);

    const raised = withConfig(tenant, { perKey: { perMinute: SLOW, burst: 4 } });
    const after = [];
    for (let i = 0; i < 3; i++) after.push(await limit(raised, key("k")));
    expect(after.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(after[0]).toMatchObject({ remaining: 1, resetSeconds: 180 });
  });
});

describe("limit (tenant-wide limit)", () => {
  it("admits exactly its burst across keys; refunds leave the keys untouched", async () => {
    const tenantBurst = 10;
    const keyBurst = 100;
    const tenant = makeTenant({
      perKey: { perMinute: SLOW, burst: keyBurst },
      tenant: { perMinute: SLOW, burst: tenantBurst },
    });
    const keys = ["a", "b", "c", "d", "e"];
    const calls = keys.flatMap((id) =>
      Array.from({ length: 10 }, async () => ({ id, decision: await limit(tenant, key(id)) })),
    );
    const results = await Promise.all(calls);

    const admitted = results.filter((r) => r.decision.allowed);
    expect(admitted).toHaveLength(tenantBurst);
    for (const { decision } of results.filter((r) => !r.decision.allowed)) {
      expect(decision).toMatchObject({ scope: "tenant", limit: SLOW, retryAfterSeconds: 60 });
    }

    // Lift the tenant-wide limit: each key has lost exactly its own admissions, nothing else.
    const lifted = withConfig(tenant, { tenant: { perMinute: SLOW, burst: 100_000 } });
    for (const id of keys) {
      const admittedForKey = admitted.filter((r) => r.id === id).length;
      expect(await limit(lifted, key(id))).toMatchObject({
        allowed: true,
        scope: "subject",
        remaining: keyBurst - admittedForKey - 1,
      });
    }
  });

  it("reports the tenant-wide limit when it has fewer remaining", async () => {
    const tenant = makeTenant({
      perKey: { perMinute: SLOW, burst: 10 },
      tenant: { perMinute: 600, burst: 3 },
    });
    expect(await limit(tenant, key("k"))).toEqual({
      allowed: true,
      limit: 600,
      remaining: 2,
      resetSeconds: 1,
      retryAfterSeconds: 0,
      scope: "tenant",
    });
  });

  it("does not share limits between tenants", async () => {
    const options = {
      perKey: { perMinute: SLOW, burst: 3 },
      tenant: { perMinute: SLOW, burst: 3 },
    };
    const first = makeTenant(options);
    const second = makeTenant(options);
    for (let i = 0; i < 3; i++) expect((await limit(first, key("shared"))).allowed).toBe(true);
    expect((await limit(first, key("shared"))).allowed).toBe(false);
    expect((await limit(first, key("other"))).allowed).toBe(false);

    const secondDecisions = [];
    for (let i = 0; i < 4; i++) secondDecisions.push((await limit(second, key("shared"))).allowed);
    expect(secondDecisions).toEqual([true, true, true, false]);
  });
});

describe("limit (ip subjects and input)", () => {
  it("limits an IP subject separately from a key with the same id", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    const ip: RateLimitSubject = { kind: "ip", id: "2001:db8::7" };
    const ipDecisions = [];
    for (let i = 0; i < 3; i++) ipDecisions.push(await limit(tenant, ip));
    expect(ipDecisions.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(ipDecisions[2]).toMatchObject({ scope: "subject", retryAfterSeconds: 60 });

    expect((await limit(tenant, key("2001:db8::7"))).allowed).toBe(true);
    expect((await limit(tenant, { kind: "ip", id: "203.0.113.9" })).allowed).toBe(true);
  });

  it("rejects a malformed subject as bad_request", async () => {
    const tenant = makeTenant();
    const bad = [
      { kind: "key", id: "" },
      { kind: "header", id: "x" },
      { kind: "ip", id: "x".repeat(513) },
    ];
    for (const subject of bad) {
      const result = await exports.default.limit(tenant, subject as RateLimitSubject);
      expect(result).toMatchObject({ ok: false, error: { code: "bad_request" } });
    }
  });

  it("has no HTTP routes", async () => {
    const response = await exports.default.fetch("https://ratelimit.internal/anything");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});
