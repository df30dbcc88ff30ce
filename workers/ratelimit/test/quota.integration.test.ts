import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { BudgetLease, QuotaUsage, RpcResult, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { makeTenant, unwrap, withConfig } from "./tenant";

function nextUtcDay(): string {
  const now = new Date();
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return new Date(next).toISOString();
}

function nextUtcMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

/** A lease of exactly `tokens` (what a reservation was before leases), or the refusal. */
function reserveRaw(tenant: TenantContext, tokens: number): Promise<RpcResult<BudgetLease>> {
  return exports.default.leaseBudget(tenant, { leaseId: null, charge: 0, size: tokens, min: tokens });
}

async function reserve(tenant: TenantContext, tokens: number): Promise<BudgetLease> {
  return unwrap(await reserveRaw(tenant, tokens));
}

/** Charges `used` to a lease and closes it. */
function settleRaw(tenant: TenantContext, leaseId: string | null, used: number): Promise<RpcResult<BudgetLease>> {
  return exports.default.leaseBudget(tenant, { leaseId, charge: used, size: 0, min: 0 });
}

async function usage(tenant: TenantContext): Promise<QuotaUsage> {
  return unwrap(await exports.default.usage(tenant));
}

function ledger(tenant: TenantContext) {
  return env.QUOTA_LEDGER.getByName(tenant.tenantId);
}

describe("reserve", () => {
  it("never admits more than the budget under concurrency", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 100_000 } });
    const results: RpcResult<BudgetLease>[] = await Promise.all(
      Array.from({ length: 50 }, () => reserveRaw(tenant, 100)),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const refusals = results.filter((r) => !r.ok);
    expect(refusals).toHaveLength(40);
    for (const refusal of refusals) {
      expect(refusal.ok ? null : refusal.error).toMatchObject({
        code: "budget_exceeded",
        details: { window: "daily", remaining: 0, resetsAt: nextUtcDay() },
      });
    }
    expect(await usage(tenant)).toMatchObject({
      daily: { limit: 1000, used: 0, reserved: 1000, remaining: 0 },
      openReservations: 10,
    });
  });

  it("returns a reservation that expires after the TTL (15 minutes)", async () => {
    const tenant = makeTenant();
    const before = Date.now();
    const reservation = await reserve(tenant, 42);
    expect(reservation.size).toBe(42);
    expect(reservation.leaseId).toMatch(/^[0-9a-f-]{36}$/);
    const ttl = Date.parse(reservation.expiresAt!) - before;
    expect(ttl).toBeGreaterThanOrEqual(900_000);
    expect(ttl).toBeLessThan(905_000);
  });

  it("lets the monthly budget bind when it has less left than the daily", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 1000 } });
    const first = await reserve(tenant, 800);
    expect((await settleRaw(tenant, first.leaseId, 800)).ok).toBe(true);

    // The daily budget is raised (config change): 4200 left today, but only 200 this month.
    const raised = withConfig(tenant, { budgets: { dailyTokens: 5000, monthlyTokens: 1000 } });
    const refused = await reserveRaw(raised, 300);
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: "budget_exceeded",
        details: { window: "monthly", remaining: 200, resetsAt: nextUtcMonth() },
      },
    });
    expect((await reserveRaw(raised, 200)).ok).toBe(true);
  });

  it("admits nothing when a budget is 0", async () => {
    const noDaily = makeTenant({ budgets: { dailyTokens: 0, monthlyTokens: 1000 } });
    expect(await reserveRaw(noDaily, 1)).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded", details: { window: "daily", remaining: 0 } },
    });
    const noMonthly = makeTenant({ budgets: { dailyTokens: 0, monthlyTokens: 0 } });
    expect(await reserveRaw(noMonthly, 1)).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded", details: { window: "monthly" } },
    });
  });

  it("rejects invalid token counts as bad_request", async () => {
    const tenant = makeTenant();
    const invalid = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "10" as unknown as number];
    for (const tokens of invalid) {
      expect(await reserveRaw(tenant, tokens)).toMatchObject({
        ok: false,
        error: { code: "bad_request" },
      });
    }
    expect((await usage(tenant)).openReservations).toBe(0);
  });
});

describe("leases", () => {
  it("grows a lease toward the size asked for, capped at a quarter of the free headroom unless min needs more", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const lease = unwrap(await exports.default.leaseBudget(tenant, { leaseId: null, charge: 0, size: 1000, min: 10 }));
    expect(lease).toMatchObject({ size: 250, daily: { reserved: 250, remaining: 750 } });
    const needy = unwrap(await exports.default.leaseBudget(tenant, { leaseId: null, charge: 0, size: 600, min: 600 }));
    expect(needy.size).toBe(600);
    expect(await usage(tenant)).toMatchObject({ daily: { reserved: 850, remaining: 150 }, openReservations: 2 });
  });

  it("charges reported usage and resizes in one call; growing past the budget keeps the lease and the charge", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const lease = await reserve(tenant, 200);
    const grown = unwrap(
      await exports.default.leaseBudget(tenant, { leaseId: lease.leaseId, charge: 150, size: 400, min: 300 }),
    );
    expect(grown).toMatchObject({ leaseId: lease.leaseId, size: 300, daily: { used: 150, reserved: 300 } });
    const refused = await exports.default.leaseBudget(tenant, {
      leaseId: lease.leaseId,
      charge: 100,
      size: 900,
      min: 900,
    });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded", details: { leaseId: lease.leaseId, size: 200, window: "daily" } },
    });
    expect(await usage(tenant)).toMatchObject({
      daily: { used: 250, reserved: 200, remaining: 550 },
      openReservations: 1,
    });
    expect(unwrap(await settleRaw(tenant, lease.leaseId, 50))).toMatchObject({ leaseId: null, size: 0 });
    expect(await usage(tenant)).toMatchObject({ daily: { used: 300, reserved: 0 }, openReservations: 0 });
  });

  it("counts usage charged beyond a lease against its growth (the window is over-committed, nothing is left)", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const lease = await reserve(tenant, 600);
    const refused = await exports.default.leaseBudget(tenant, {
      leaseId: lease.leaseId,
      charge: 900,
      size: 300,
      min: 200,
    });
    // The charge stands; the lease had nothing left, so it is closed.
    expect(refused).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded", details: { leaseId: null, size: 0 } },
    });
    expect(await usage(tenant)).toMatchObject({
      daily: { used: 900, reserved: 0, remaining: 100 },
      openReservations: 0,
    });
    expect((await reserveRaw(tenant, 100)).ok).toBe(true);
    expect((await reserveRaw(tenant, 1)).ok).toBe(false);
  });

  it("moves a lease still open after the day rolled over into today, with what it has left", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const lease = await reserve(tenant, 300);
    await runInDurableObject(ledger(tenant), (_, state) => {
      state.storage.sql.exec("UPDATE reservations SET day = '2000-01-31', month = '2000-01'");
    });
    const kept = unwrap(
      await exports.default.leaseBudget(tenant, { leaseId: lease.leaseId, charge: 100, size: 200, min: 0 }),
    );
    expect(kept).toMatchObject({ leaseId: lease.leaseId, size: 200, daily: { used: 0, reserved: 200 } });
    const old = await runInDurableObject(
      ledger(tenant),
      (_, { storage: { sql } }) => sql.exec("SELECT used FROM daily_usage WHERE day = '2000-01-31'").one().used,
    );
    expect(old).toBe(100);
  });
});

describe("settle and release", () => {
  it("settle charges the actual count, freeing the rest of the estimate", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const reservation = await reserve(tenant, 600);
    expect((await reserveRaw(tenant, 800)).ok).toBe(false);

    const settled = await settleRaw(tenant, reservation.leaseId, 200);
    expect(settled).toMatchObject({
      ok: true,
      value: { leaseId: null, daily: { used: 200, reserved: 0, remaining: 800 } },
    });
    expect((await reserveRaw(tenant, 800)).ok).toBe(true);
  });

  it("settle charges more than the estimate when more was used", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const reservation = await reserve(tenant, 100);
    await settleRaw(tenant, reservation.leaseId, 1200);
    expect(await usage(tenant)).toMatchObject({
      daily: { used: 1200, reserved: 0, remaining: 0 },
      monthly: { used: 1200, remaining: 3800 },
    });
    expect(await reserveRaw(tenant, 1)).toMatchObject({
      ok: false,
      error: { code: "budget_exceeded", details: { window: "daily" } },
    });
  });

  it("release frees the whole reservation", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const reservation = await reserve(tenant, 1000);
    expect((await reserveRaw(tenant, 1)).ok).toBe(false);

    expect(await settleRaw(tenant, reservation.leaseId, 0)).toMatchObject({
      ok: true,
      value: { leaseId: null, daily: { used: 0, reserved: 0, remaining: 1000 } },
    });
    expect((await reserveRaw(tenant, 1000)).ok).toBe(true);
  });

  it("closes a reservation only once", async () => {
    const tenant = makeTenant();
    const reservation = await reserve(tenant, 100);
    expect((await settleRaw(tenant, reservation.leaseId, 50)).ok).toBe(true);
    expect(await settleRaw(tenant, reservation.leaseId, 50)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await settleRaw(tenant, reservation.leaseId, 0)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await settleRaw(tenant, crypto.randomUUID(), 1)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect((await usage(tenant)).daily.used).toBe(50);
  });

  it("rejects an invalid actual count without closing the reservation", async () => {
    const tenant = makeTenant();
    const reservation = await reserve(tenant, 100);
    for (const actual of [-5, 2.5, Number.NaN]) {
      const result = await settleRaw(tenant, reservation.leaseId, actual);
      expect(result).toMatchObject({ ok: false, error: { code: "bad_request" } });
    }
    expect(await usage(tenant)).toMatchObject({ daily: { reserved: 100 }, openReservations: 1 });
    expect((await settleRaw(tenant, reservation.leaseId, 90)).ok).toBe(true);
  });

  it("charges the reservation's own day and month when settled after a rollover", async () => {
    const tenant = makeTenant();
    const reservation = await reserve(tenant, 100);
    // As if the reservation had been made on an earlier day, in an earlier month.
    await runInDurableObject(ledger(tenant), (_, state) => {
      state.storage.sql.exec("UPDATE reservations SET day = '2000-01-31', month = '2000-01'");
    });

    expect((await settleRaw(tenant, reservation.leaseId, 70)).ok).toBe(true);
    expect(await usage(tenant)).toMatchObject({
      daily: { used: 0, reserved: 0 },
      monthly: { used: 0, reserved: 0 },
    });
    const charged = await runInDurableObject(ledger(tenant), (_, { storage: { sql } }) => ({
      day: sql.exec("SELECT used FROM daily_usage WHERE day = '2000-01-31'").one().used,
      month: sql.exec("SELECT used FROM monthly_usage WHERE month = '2000-01'").one().used,
    }));
    expect(charged).toEqual({ day: 70, month: 70 });
  });
});

describe("expiry", () => {
  it("the alarm charges unsettled reservations at their estimate and closes them", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const expiring = await reserve(tenant, 300);
    const stub = ledger(tenant);
    // Fifteen minutes pass: move the reservation's expiry into the past.
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE reservations SET expires_at = ?", Date.now() - 1);
    });

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const afterAlarm = await runInDurableObject(stub, (_, state) => ({
      open: state.storage.sql.exec("SELECT COUNT(*) AS n FROM reservations").one().n,
      used: state.storage.sql.exec("SELECT SUM(used) AS n FROM daily_usage").one().n,
    }));
    expect(afterAlarm).toEqual({ open: 0, used: 300 });

    expect(await usage(tenant)).toMatchObject({
      daily: { used: 300, reserved: 0, remaining: 700 },
      monthly: { used: 300, reserved: 0, remaining: 4700 },
      openReservations: 0,
    });
    expect(await settleRaw(tenant, expiring.leaseId, 10)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("the alarm re-arms for reservations that are still open", async () => {
    const tenant = makeTenant();
    await reserve(tenant, 100);
    const stub = ledger(tenant);
    expect(await runDurableObjectAlarm(stub)).toBe(true); // early: nothing expired yet
    expect((await usage(tenant)).openReservations).toBe(1);
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
  });
});

describe("usage", () => {
  it("reports used, reserved, remaining and resets for the day and the month", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 1000, monthlyTokens: 5000 } });
    const first = await reserve(tenant, 100);
    await reserve(tenant, 250);
    await settleRaw(tenant, first.leaseId, 80);

    expect(await usage(tenant)).toEqual({
      daily: { limit: 1000, used: 80, reserved: 250, remaining: 670, resetsAt: nextUtcDay() },
      monthly: { limit: 5000, used: 80, reserved: 250, remaining: 4670, resetsAt: nextUtcMonth() },
      openReservations: 1,
    });
  });

  it("keeps tenants apart", async () => {
    const budgets = { dailyTokens: 500, monthlyTokens: 500 };
    const first = makeTenant({ budgets });
    const second = makeTenant({ budgets });
    const reservation = await reserve(first, 500);
    expect((await reserveRaw(first, 1)).ok).toBe(false);

    expect((await usage(second)).daily).toMatchObject({ used: 0, reserved: 0, remaining: 500 });
    expect(await settleRaw(second, reservation.leaseId, 1)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect((await reserveRaw(second, 500)).ok).toBe(true);
  });
});
