/**
 * BudgetPool against an in-memory ledger with the QuotaLedger's lease rules (charge, then resize;
 * growth capped at a quarter of the headroom unless min needs more; refusal keeps the lease).
 */
import type { BudgetLease, LeaseRequest, RpcResult } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { BudgetPool, FLUSH_DELAY_MS, TURN_MAX_MS } from "../src/admission/budget-pool";

class FakeLedger {
  used = 0;
  leases = new Map<string, number>();
  calls: LeaseRequest[] = [];
  constructor(readonly limit: number) {}
  get reserved(): number {
    return [...this.leases.values()].reduce((a, b) => a + b, 0);
  }
  async lease(request: LeaseRequest): Promise<RpcResult<BudgetLease>> {
    this.calls.push(request);
    let id = request.leaseId;
    if (id !== null && !this.leases.has(id)) return { ok: false, error: { code: "not_found", message: "gone" } };
    let current = id === null ? 0 : this.leases.get(id)!;
    this.used += request.charge;
    current = Math.max(0, current - request.charge);
    if (id !== null) this.leases.set(id, current);
    const headroom = Math.max(0, this.limit - this.used - this.reserved + current);
    let size = request.size;
    if (size > current) {
      size = Math.min(size, headroom, Math.max(request.min, Math.floor(headroom / 4)));
      if (size < request.min) {
        return {
          ok: false,
          error: { code: "budget_exceeded", message: "over", details: { leaseId: id, size: current, window: "daily" } },
        };
      }
    }
    if (size === 0) {
      if (id !== null) this.leases.delete(id);
      id = null;
    } else {
      id ??= crypto.randomUUID();
      this.leases.set(id, size);
    }
    const usage = { limit: this.limit, used: this.used, reserved: this.reserved, remaining: 0, resetsAt: "" };
    return { ok: true, value: { leaseId: id, size, expiresAt: null, daily: usage, monthly: usage } };
  }
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("BudgetPool", () => {
  it("serves reservations from its lease without a ledger call until the lease runs out", async () => {
    const ledger = new FakeLedger(1_000_000);
    const time = clock();
    const pool = new BudgetPool(ledger, time);
    for (let i = 0; i < 50; i++) {
      const turn = pool.openTurn();
      expect((await pool.reserve(turn, 1000)).ok).toBe(true);
      pool.settle(turn, 400);
      time.advance(20);
    }
    // 50 turns, 1,000 tokens each: the lease grew with the rate, so far fewer calls than turns.
    expect(ledger.calls.length).toBeLessThan(10);
    await pool.flush();
    expect(ledger.used).toBe(50 * 400);
  });

  it("never lets the turns of two isolates spend more than the budget", async () => {
    const ledger = new FakeLedger(30_000);
    const pools = [new BudgetPool(ledger), new BudgetPool(ledger)];
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const pool = pools[i % 2]!;
        const turn = pool.openTurn();
        const reserved = await pool.reserve(turn, 2_000);
        if (reserved.ok) pool.settle(turn, 2_000);
        return reserved.ok;
      }),
    );
    expect(results.filter(Boolean)).toHaveLength(15);
    await Promise.all(pools.map((pool) => pool.flush()));
    expect(ledger.used + ledger.reserved).toBeLessThanOrEqual(30_000);
    expect(ledger.used).toBe(30_000);
  });

  it("refuses with budget_exceeded when not even the reservation fits, and remembers it briefly", async () => {
    const ledger = new FakeLedger(1_500);
    const pool = new BudgetPool(ledger);
    const first = pool.openTurn();
    expect((await pool.reserve(first, 1_000)).ok).toBe(true);
    const second = pool.openTurn();
    const refused = await pool.reserve(second, 1_000);
    expect(refused).toMatchObject({ ok: false, error: { code: "budget_exceeded" } });
    const calls = ledger.calls.length;
    expect((await pool.reserve(pool.openTurn(), 1_000)).ok).toBe(false);
    expect(ledger.calls.length).toBe(calls);
    // A smaller one that fits the lease's leftovers is still served.
    expect((await pool.reserve(pool.openTurn(), 100)).ok).toBe(true);
  });

  it("tops a turn up: a queued turn reserves more once it knows its real prompt", async () => {
    const ledger = new FakeLedger(10_000);
    const pool = new BudgetPool(ledger);
    const turn = pool.openTurn();
    expect((await pool.reserve(turn, 2_000)).ok).toBe(true);
    expect((await pool.reserve(turn, 3_000)).ok).toBe(true);
    expect(pool.reservedBy(turn)).toBe(5_000);
    expect((await pool.reserve(turn, 6_000)).ok).toBe(false);
    pool.settle(turn, 4_500);
    expect(pool.reservedBy(turn)).toBe(0);
    expect((await pool.reserve(turn, 1)).ok).toBe(false); // settled turns reserve nothing more
  });

  it("closes its lease once idle, charging what was used, so an idle isolate holds nothing", async () => {
    const ledger = new FakeLedger(100_000);
    const time = clock();
    const pool = new BudgetPool(ledger, time);
    const turn = pool.openTurn();
    await pool.reserve(turn, 5_000);
    pool.settle(turn, 1_234);
    time.advance(FLUSH_DELAY_MS);
    await pool.scheduleFlush(async () => undefined);
    expect(ledger.used).toBe(1_234);
    expect(ledger.leases.size).toBe(0);
  });

  it("settles a turn its worker never settled at its whole reservation", async () => {
    const ledger = new FakeLedger(100_000);
    const time = clock();
    const pool = new BudgetPool(ledger, time);
    const lost = pool.openTurn();
    await pool.reserve(lost, 3_000);
    time.advance(TURN_MAX_MS + 1);
    await pool.flush();
    expect(ledger.used).toBe(3_000);
  });

  it("starts a new lease when the ledger expired the old one", async () => {
    const ledger = new FakeLedger(100_000);
    const pool = new BudgetPool(ledger);
    const turn = pool.openTurn();
    await pool.reserve(turn, 100);
    ledger.leases.clear(); // expired and charged in full meanwhile
    const next = pool.openTurn();
    expect((await pool.reserve(next, 100_000 / 2)).ok).toBe(true);
    expect(ledger.leases.size).toBe(1);
  });
});
