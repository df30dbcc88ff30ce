/**
 * The request rates of the web chat widget (docs/widget.md). A widget request is admitted by three
 * limits, all leased like every rate limit (admission/rate-lease.ts):
 * - its own subject's, at the publishable key's `visitorLimits` (never above the tenant's
 *   `rateLimits.perKey`): the visitor — RateLimiter `${tenantId}:key:${keyId}:visitor:${visitorId}`,
 *   the visitor id from its signed token — or, for `POST /v1/widget/session`, the client IP from
 *   `cf-connecting-ip` — RateLimiter `${tenantId}:ip:${keyId}:${ip}` — so new visitor ids cost
 *   what a visitor's requests do;
 * - the publishable key's own (all its visitors together: its `limits`, else the tenant's `perKey`);
 * - the tenant-wide one.
 * The subject's is taken first; if the key's or the tenant's then refuses, it is put back.
 */
import type { RateLimitConfig, RateLimitSubject, TenantContext, VisitorLimits } from "@crispy/contracts";
import { limiterFor } from "../admission/isolate";
import { HttpError } from "../http/errors";
import { enforceRateLimit } from "../limits";
import type { RequestState } from "../state";

/** A visitor's subject: its publishable key's visitor. */
export function visitorSubject(keyId: string, visitorId: string): RateLimitSubject {
  return { kind: "key", id: `${keyId}:visitor:${visitorId}` };
}

/** A client IP's subject for getting visitor tokens of one publishable key. */
export function sessionIssuerSubject(keyId: string, clientIp: string): RateLimitSubject {
  return { kind: "ip", id: `${keyId}:${clientIp}` };
}

/** The visitor limit as a rate limit, never above the tenant's per-key one. */
function rateOf(tenant: TenantContext, limits: VisitorLimits): RateLimitConfig {
  const perKey = tenant.config.rateLimits.perKey;
  return {
    perMinute: Math.min(limits.requestsPerMinute, perKey.perMinute),
    burst: Math.min(limits.burst, perKey.burst),
  };
}

/**
 * Admits the request or throws 429 (per visitor or client IP, then per key and tenant-wide); the
 * binding decision is kept on `state` for the RateLimit headers. `who` names the subject in messages.
 */
export async function enforceWidgetRateLimit(
  env: GatewayEnv,
  ctx: ExecutionContext,
  state: RequestState,
  tenant: TenantContext & { keyId: string },
  subject: RateLimitSubject,
  limits: VisitorLimits,
  who: "visitor" | "client IP",
): Promise<void> {
  const rate = rateOf(tenant, limits);
  // crispy-ratelimit limits a subject other than the calling key by the context's perKey.
  const context: TenantContext = {
    ...tenant,
    config: { ...tenant.config, rateLimits: { ...tenant.config.rateLimits, perKey: rate } },
  };
  const own = limiterFor(env, context, { scope: "subject", subject }, rate);
  let mine: Awaited<ReturnType<typeof own.take>>;
  try {
    mine = await own.take((call) => ctx.waitUntil(call.catch(() => undefined)));
  } catch {
    throw new HttpError("upstream_unavailable", "rate limiter unavailable; try again shortly", undefined, {
      "retry-after": "1",
    });
  }
  if (!mine.allowed) {
    state.rateLimit = {
      allowed: false,
      limit: mine.limit,
      remaining: 0,
      resetSeconds: mine.resetSeconds,
      retryAfterSeconds: mine.retryAfterSeconds,
      scope: "subject",
    };
    throw new HttpError(
      "rate_limited",
      `rate limit exceeded (per ${who}: ${rate.perMinute}/min); retry after ${mine.retryAfterSeconds}s`,
      { scope: who === "visitor" ? "visitor" : "ip", limit: rate.perMinute, retryAfterSeconds: mine.retryAfterSeconds },
      { "retry-after": String(mine.retryAfterSeconds) },
    );
  }
  try {
    await enforceRateLimit(env, ctx, state, tenant, { kind: "key", id: tenant.keyId });
  } catch (error) {
    own.putBack();
    throw error;
  }
  const decided = state.rateLimit;
  if (decided && mine.remaining < decided.remaining) {
    state.rateLimit = { ...decided, limit: mine.limit, remaining: mine.remaining, resetSeconds: mine.resetSeconds };
  }
}
