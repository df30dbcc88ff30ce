/**
 * The QuotaLedger object, in memory: the lease rules of workers/ratelimit/src/quota-ledger.ts
 * (which cannot be imported here — it is a Durable Object class of `cloudflare:workers`), for one
 * budget window (a simulated run is a few seconds of one UTC day; the monthly budget never binds).
 *
 * Rules kept, in the same order: expired leases are charged in full and closed; an unknown lease
 * is "not_found"; a call charges `charge` (the lease shrinks by it, never below 0), then resizes
 * toward `size` — shrinking always succeeds (0 closes it); growing is granted up to the headroom
 * (limit − used − all leases + this lease), at most LEASE_FRACTION of it unless `min` needs more,
 * and fails with "budget_exceeded" (the charge stands, the lease keeps its size) when not even
 * `min` fits. Every call renews the lease's expiry.
 *
 * LEASE_FRACTION is read from quota-ledger.ts itself, so the two cannot drift apart silently.
 */
import { readFileSync } from "node:fs";
import type { BudgetSource } from "../../workers/gateway/src/admission/budget-pool.ts";

// The contract types, as the real BudgetPool sees them (@crispy/contracts is not a dependency of infra).
export type LeaseRequest = Parameters<BudgetSource["lease"]>[0];
export type LeaseAnswer = Awaited<ReturnType<BudgetSource["lease"]>>;
type BudgetLease = Extract<LeaseAnswer, { ok: true }>["value"];
type TokenWindowUsage = BudgetLease["daily"];

const LEDGER_SOURCE = new URL("../../workers/ratelimit/src/quota-ledger.ts", import.meta.url);

function leaseFractionOfSource(): number {
  const match = /export const LEASE_FRACTION = ([0-9.]+);/.exec(readFileSync(LEDGER_SOURCE, "utf8"));
  if (!match) throw new Error(`LEASE_FRACTION not found in ${LEDGER_SOURCE.pathname}: update infra/sim/ledger.ts`);
  return Number(match[1]);
}

export const LEASE_FRACTION = leaseFractionOfSource();
export const RESERVATION_TTL_MS = 15 * 60_000;

export class SimLedger {
  used = 0;
  reserved = 0;
  readonly #leases = new Map<string, { tokens: number; expiresAt: number }>();
  #nextId = 1;
  /** The most ever committed (used + leased): must stay within the budget. */
  peakCommitted = 0;

  constructor(readonly budget: number) {}

  lease(request: LeaseRequest, now: number): LeaseAnswer {
    if (request.min > request.size) return this.#fail("bad_request", "min cannot exceed size");
    this.#closeExpired(now);
    let row: { id: string; tokens: number } | null = null;
    if (request.leaseId !== null) {
      const found = this.#leases.get(request.leaseId);
      if (!found) return this.#fail("not_found", `lease ${request.leaseId} is unknown or expired`);
      row = { id: request.leaseId, tokens: found.tokens };
    }
    if (row) {
      // #chargeAndRoll: usage is charged, the lease shrinks by it (never below 0).
      this.used += request.charge;
      const tokens = Math.max(0, row.tokens - request.charge);
      this.#set(row.id, tokens, this.#leases.get(row.id)!.expiresAt);
      row.tokens = tokens;
    }
    const current = row?.tokens ?? 0;
    if (request.size <= current) return this.#ok(this.#resize(row, request.size, now));
    const free = this.#headroom(row);
    const cap = Math.max(request.min, Math.floor(free * LEASE_FRACTION));
    const size = Math.min(request.size, free, cap);
    if (size < request.min) {
      const kept = row ? this.#resize(row, current, now) : null;
      return {
        ok: false,
        error: {
          code: "budget_exceeded",
          message: `daily token budget exceeded: ${request.min - current} more tokens requested`,
          details: {
            remaining: Math.max(0, this.budget - this.used - this.reserved),
            leaseId: kept,
            size: kept ? current : 0,
          },
        },
      };
    }
    return this.#ok(this.#resize(row, Math.max(size, current), now));
  }

  /** Tokens neither used nor held by any lease. */
  get free(): number {
    return this.budget - this.used - this.reserved;
  }

  #headroom(row: { id: string; tokens: number } | null): number {
    const own = row?.tokens ?? 0;
    return Math.max(0, this.budget === 0 ? 0 : this.budget - this.used - this.reserved + own);
  }

  #resize(row: { id: string; tokens: number } | null, size: number, now: number): string | null {
    const expiresAt = now + RESERVATION_TTL_MS;
    if (size === 0) {
      if (row) this.#delete(row.id);
      return null;
    }
    const id = row?.id ?? `lease-${this.#nextId++}`;
    this.#set(id, size, expiresAt);
    return id;
  }

  #ok(leaseId: string | null): LeaseAnswer {
    const size = leaseId ? this.#leases.get(leaseId)!.tokens : 0;
    const usage: TokenWindowUsage = {
      limit: this.budget,
      used: this.used,
      reserved: this.reserved,
      remaining: Math.max(0, this.free),
      resetsAt: "2026-01-02T00:00:00.000Z",
    };
    const expiresAt = leaseId ? new Date(this.#leases.get(leaseId)!.expiresAt).toISOString() : null;
    return { ok: true, value: { leaseId, size, expiresAt, daily: usage, monthly: usage } };
  }

  #fail(code: "bad_request" | "not_found", message: string): LeaseAnswer {
    return { ok: false, error: { code, message } };
  }

  #set(id: string, tokens: number, expiresAt: number): void {
    this.reserved += tokens - (this.#leases.get(id)?.tokens ?? 0);
    this.#leases.set(id, { tokens, expiresAt });
    this.peakCommitted = Math.max(this.peakCommitted, this.used + this.reserved);
  }

  #delete(id: string): void {
    this.reserved -= this.#leases.get(id)?.tokens ?? 0;
    this.#leases.delete(id);
  }

  #closeExpired(now: number): void {
    for (const [id, lease] of this.#leases) {
      if (lease.expiresAt <= now) {
        this.used += lease.tokens;
        this.#delete(id);
      }
    }
  }
}
