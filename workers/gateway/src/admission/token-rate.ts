/**
 * An API key's token-rate limit (`keyLimits.tokensPerMinute`): a GCRA over tokens in the key's
 * RateLimiter `${tenantId}:tokens:${keyId}` (burst: one minute of the rate), charged with each
 * reservation a turn makes — all of it or nothing — and refunded, when the turn settles, what it
 * reserved but did not use. Usage a provider reports above the reservation is not charged here.
 *
 * One Durable Object call per reservation (and one per settled turn that used less than it
 * reserved, off the response path) — for keys that have this limit only: a key without it never
 * gets a KeyTokenRate, so it costs nothing. (Leasing, as the request-rate limits do, would save
 * the call, but one turn's reservation can be a large share of the burst: a tenth-of-the-burst
 * lease would rarely hold it.) Fails closed: an unreachable limiter refuses the reservation.
 */
import { fail, ok, type RpcResult, type TenantContext } from "@crispy/contracts";

export class KeyTokenRate {
  readonly #env: GatewayEnv;
  readonly #tenant: TenantContext;
  readonly #keyId: string;
  readonly perMinute: number;

  constructor(env: GatewayEnv, tenant: TenantContext, keyId: string, perMinute: number) {
    this.#env = env;
    this.#tenant = tenant;
    this.#keyId = keyId;
    this.perMinute = perMinute;
  }

  /** Charges `tokens` against the key's tokens per minute, or refuses with "rate_limited". */
  async take(tokens: number): Promise<RpcResult<void>> {
    if (tokens === 0) return ok(undefined);
    const limit = `key ${this.#keyId}'s token rate limit (${this.perMinute} tokens/min)`;
    if (tokens > this.perMinute) {
      return fail("rate_limited", `${tokens} tokens requested at once, more than ${limit} can ever admit`, {
        scope: "key",
        keyId: this.#keyId,
        limit: "tokensPerMinute",
        tokensPerMinute: this.perMinute,
        requested: tokens,
      });
    }
    let charged: Awaited<ReturnType<GatewayEnv["RATELIMIT"]["chargeTokenRate"]>>;
    try {
      charged = await this.#env.RATELIMIT.chargeTokenRate(this.#tenant, tokens, 0);
    } catch {
      return fail("upstream_unavailable", "token-rate limiter unavailable; try again shortly");
    }
    if (!charged.ok) return charged;
    if (charged.value.allowed) return ok(undefined);
    const retryAfterSeconds = Math.max(1, Math.ceil(charged.value.retryAfterMs / 1000));
    return fail(
      "rate_limited",
      `${limit} exceeded: ${tokens} tokens requested, ${charged.value.remaining} available now; retry after ${retryAfterSeconds}s`,
      {
        scope: "key",
        keyId: this.#keyId,
        limit: "tokensPerMinute",
        tokensPerMinute: this.perMinute,
        remaining: charged.value.remaining,
        retryAfterSeconds,
      },
    );
  }

  /** Gives back `tokens` a turn took but did not use; never throws (an unrefunded charge only errs on the safe side). */
  async refund(tokens: number): Promise<void> {
    if (tokens <= 0) return;
    try {
      await this.#env.RATELIMIT.chargeTokenRate(this.#tenant, 0, Math.min(tokens, this.perMinute));
    } catch {
      // Conservative: the tokens stay charged until the bucket refills.
    }
  }
}
