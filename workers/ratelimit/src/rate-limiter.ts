/**
 * RateLimiter Durable Object: one request-rate limit, named `${tenantId}:${kind}:${id}` for a
 * subject (API key or client IP) or `${tenantId}:*` for the tenant-wide limit.
 *
 * Owns one GCRA state (see gcra.ts), kept in memory and written through to SQLite-backed
 * synchronous KV on every change, so it survives eviction and restarts.
 *
 * Invariants:
 * - `take` and `refund` run without awaiting anything, so concurrent calls are serialised by the
 *   object: the algorithm's bound (at most `burst` at once) holds exactly under any concurrency.
 * - The limit is passed on every call (it lives in the tenant's config, which may change); the
 *   state is rescaled to the new limit instead of being reset.
 */
import { DurableObject } from "cloudflare:workers";
import { refund, take, type GcraLimit, type GcraResult, type GcraState } from "./gcra";

const STATE_KEY = "gcra";

export class RateLimiter extends DurableObject<RatelimitEnv> {
  #state: GcraState | null;

  constructor(ctx: DurableObjectState, env: RatelimitEnv) {
    super(ctx, env);
    this.#state = ctx.storage.kv.get<GcraState>(STATE_KEY) ?? null;
  }

  /** Tries to admit one request under `limit`; `now` (epoch ms) is injectable for tests. */
  async take(limit: GcraLimit, now: number = Date.now()): Promise<GcraResult> {
    const { result, state } = take(this.#state, limit, now);
    this.#save(state);
    return result;
  }

  /** Gives back one admission taken under `limit` (used when the other limit refused). */
  async refund(limit: GcraLimit, now: number = Date.now()): Promise<void> {
    this.#save(refund(this.#state, limit, now));
  }

  #save(state: GcraState): void {
    this.#state = state;
    this.ctx.storage.kv.put(STATE_KEY, state);
  }
}
