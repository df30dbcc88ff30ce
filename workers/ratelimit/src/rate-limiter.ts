/**
 * RateLimiter Durable Object: one request-rate limit, named `${tenantId}:${kind}:${id}` for a
 * subject (API key or client IP) or `${tenantId}:*` for the tenant-wide limit — or one API key's
 * token-rate limit, `${tenantId}:tokens:${keyId}`, charged with each reservation's tokens.
 *
 * Owns one GCRA state (see gcra.ts), kept in memory and written through to SQLite-backed
 * synchronous KV on every change, so it survives eviction and restarts. It hands out admissions
 * in leases: the gateway isolates spend them locally and give back what they did not use. A
 * token-rate limit is charged all-or-nothing instead (`charge`), and refunded what a turn reserved
 * but did not use.
 *
 * Invariants:
 * - `lease` runs without awaiting anything, so concurrent calls are serialised by the object:
 *   every granted admission is charged before the next call is looked at, so the sum of all
 *   isolates' leases never exceeds what the limit allows.
 * - The limit is passed on every call (it lives in the tenant's config, which may change); the
 *   state is rescaled to the new limit instead of being reset.
 * - Tenant erasure (`erase`, erase.ts) deletes the state; the next lease starts from a full bucket.
 */
import { DurableObject } from "cloudflare:workers";
import { type ChargeResult, charge, type GcraLimit, type GcraState, type LeaseResult, lease } from "./gcra";

const STATE_KEY = "gcra";

export class RateLimiter extends DurableObject<RatelimitEnv> {
  #state: GcraState | null;

  constructor(ctx: DurableObjectState, env: RatelimitEnv) {
    super(ctx, env);
    this.#state = ctx.storage.kv.get<GcraState>(STATE_KEY) ?? null;
  }

  /** Takes back `giveBack` unused admissions, then grants up to `want`; `now` is injectable for tests. */
  async lease(limit: GcraLimit, want: number, giveBack: number, now: number = Date.now()): Promise<LeaseResult> {
    const { result, state } = lease(this.#state, limit, now, want, giveBack);
    if (result.granted > 0 || giveBack > 0 || this.#state === null) {
      this.#state = state;
      this.ctx.storage.kv.put(STATE_KEY, state);
    }
    return result;
  }

  /** Tenant erasure (erase.ts): whether the limiter holds a state. */
  async held(): Promise<boolean> {
    return this.#state !== null;
  }

  /** Tenant erasure: forgets the state (the object's whole storage); returns whether it held one. */
  async erase(): Promise<boolean> {
    const held = this.#state !== null;
    this.#state = null;
    await this.ctx.storage.deleteAll();
    return held;
  }

  /** Refunds `refund` unused units, then charges `cost` units all at once or not at all (a token-rate limit). */
  async charge(limit: GcraLimit, cost: number, refund: number, now: number = Date.now()): Promise<ChargeResult> {
    const { result, state } = charge(this.#state, limit, now, cost, refund);
    if (result.allowed || refund > 0 || this.#state === null) {
      this.#state = state;
      this.ctx.storage.kv.put(STATE_KEY, state);
    }
    return result;
  }
}
