/**
 * RateLimiter Durable Object: one request-rate limit, named `${tenantId}:${kind}:${id}` for a
 * subject (API key or client IP) or `${tenantId}:*` for the tenant-wide limit.
 *
 * Owns one GCRA state (see gcra.ts), kept in memory and written through to SQLite-backed
 * synchronous KV on every change, so it survives eviction and restarts. It hands out admissions
 * in leases: the gateway isolates spend them locally and give back what they did not use.
 *
 * Invariants:
 * - `lease` runs without awaiting anything, so concurrent calls are serialised by the object:
 *   every granted admission is charged before the next call is looked at, so the sum of all
 *   isolates' leases never exceeds what the limit allows.
 * - The limit is passed on every call (it lives in the tenant's config, which may change); the
 *   state is rescaled to the new limit instead of being reset.
 */
import { DurableObject } from "cloudflare:workers";
import { type GcraLimit, type GcraState, type LeaseResult, lease } from "./gcra";

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
}
