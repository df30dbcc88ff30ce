import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { RateLease, RateLimiterRef, RateLimitSubject, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { makeTenant, unwrap, withConfig } from "./tenant";

// perMinute 1 ⇒ one admission replenished per minute: nothing refills while a test runs.
const SLOW = 1;

function key(id: string): RateLimiterRef {
  return { scope: "subject", subject: { kind: "key", id } };
}

const TENANT_WIDE: RateLimiterRef = { scope: "tenant" };

async function lease(tenant: TenantContext, limiter: RateLimiterRef, want = 1, giveBack = 0): Promise<RateLease> {
  return unwrap(await exports.default.leaseRate(tenant, limiter, want, giveBack));
}

describe("leaseRate (a subject's limit)", () => {
  it("grants exactly the burst out of 5× as many concurrent single leases, each charged", async () => {
    const burst = 10;
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst } });
    const grants = await Promise.all(Array.from({ length: 5 * burst }, () => lease(tenant, key("k1"))));

    const granted = grants.filter((g) => g.granted === 1);
    expect(granted).toHaveLength(burst);
    expect(granted.map((g) => g.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: burst }, (_, i) => i));
    for (const refused of grants.filter((g) => g.granted === 0)) {
      expect(refused).toMatchObject({ limit: SLOW, remaining: 0, retryAfterSeconds: 60 });
    }
  });

  it("grants a block at once, what is left of it when less is left, and takes unused admissions back", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 5 } });
    expect(await lease(tenant, key("k"), 3)).toMatchObject({ granted: 3, remaining: 2, retryAfterSeconds: 0 });
    expect(await lease(tenant, key("k"), 4)).toMatchObject({ granted: 2, remaining: 0, retryAfterSeconds: 60 });
    // Two of the five were not used: given back, they can be leased again (by anyone).
    expect(await lease(tenant, key("k"), 5, 2)).toMatchObject({ granted: 2, remaining: 0 });
    expect(await lease(tenant, key("k"), 1)).toMatchObject({ granted: 0 });
  });

  it("survives the object being evicted", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    expect((await lease(tenant, key("k"), 2)).granted).toBe(2);
    const stub = env.RATE_LIMITER.getByName(`${tenant.tenantId}:key:k`);
    await expect(runInDurableObject(stub, (_, state) => state.abort("evict"))).rejects.toThrow();
    expect((await lease(tenant, key("k"))).granted).toBe(0);
  });

  it("applies a changed config to the next lease without resetting the count", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    expect((await lease(tenant, key("k"), 2)).granted).toBe(2);
    expect((await lease(tenant, key("k"))).granted).toBe(0);
    const raised = withConfig(tenant, { perKey: { perMinute: SLOW, burst: 4 } });
    expect(await lease(raised, key("k"), 3)).toMatchObject({ granted: 2, remaining: 0, resetSeconds: 240 });
  });

  it("limits an IP subject separately from a key with the same id", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 2 } });
    const ip: RateLimiterRef = { scope: "subject", subject: { kind: "ip", id: "2001:db8::7" } };
    expect((await lease(tenant, ip, 2)).granted).toBe(2);
    expect((await lease(tenant, ip)).granted).toBe(0);
    expect((await lease(tenant, key("2001:db8::7"))).granted).toBe(1);
    expect((await lease(tenant, { scope: "subject", subject: { kind: "ip", id: "203.0.113.9" } })).granted).toBe(1);
  });
});

describe("leaseRate (the tenant-wide limit)", () => {
  it("is one limit across all keys, apart from the keys' own", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 100 }, tenant: { perMinute: SLOW, burst: 10 } });
    const grants = await Promise.all(Array.from({ length: 30 }, () => lease(tenant, TENANT_WIDE)));
    expect(grants.filter((g) => g.granted === 1)).toHaveLength(10);
    expect((await lease(tenant, key("a"), 100)).granted).toBe(100);
  });

  it("does not share limits between tenants", async () => {
    const options = { perKey: { perMinute: SLOW, burst: 3 }, tenant: { perMinute: SLOW, burst: 3 } };
    const first = makeTenant(options);
    const second = makeTenant(options);
    expect((await lease(first, TENANT_WIDE, 3)).granted).toBe(3);
    expect((await lease(first, key("shared"), 3)).granted).toBe(3);
    expect((await lease(second, TENANT_WIDE, 3)).granted).toBe(3);
    expect((await lease(second, key("shared"), 3)).granted).toBe(3);
  });
});

describe("leaseRate (input)", () => {
  it("rejects a malformed limiter or count as bad_request", async () => {
    const tenant = makeTenant({ perKey: { perMinute: SLOW, burst: 10 } });
    const bad: Array<[unknown, unknown, unknown]> = [
      [{ scope: "subject", subject: { kind: "key", id: "" } }, 1, 0],
      [{ scope: "subject", subject: { kind: "header", id: "x" } }, 1, 0],
      [{ scope: "subject", subject: { kind: "ip", id: "x".repeat(513) } }, 1, 0],
      [{ scope: "everyone" }, 1, 0],
      [null, 1, 0],
      [key("k"), 11, 0],
      [key("k"), 1.5, 0],
      [key("k"), 1, -1],
      [key("k"), "1", 0],
    ];
    for (const [limiter, want, giveBack] of bad) {
      const result = await exports.default.leaseRate(
        tenant,
        limiter as RateLimiterRef,
        want as number,
        giveBack as number,
      );
      expect(result, JSON.stringify([limiter, want, giveBack])).toMatchObject({
        ok: false,
        error: { code: "bad_request" },
      });
    }
    // A subject of the right shape is still fine.
    const subject: RateLimitSubject = { kind: "key", id: "k" };
    expect((await lease(tenant, { scope: "subject", subject })).granted).toBe(1);
  });
});
