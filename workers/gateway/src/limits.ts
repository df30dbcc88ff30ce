/**
 * Request-rate limiting through the ratelimit worker. Fails closed: when the limiter cannot be
 * reached the request is refused (503), never waved through.
 */
import type { RateLimitDecision, RateLimitSubject, TenantConfig, TenantContext } from "@crispy/contracts";
import { traceparentOf } from "@crispy/observability";
import { configOf } from "./config";
import { HttpError, unwrap } from "./http/errors";
import type { RequestState } from "./state";

/** Admits the request or throws 429; the decision is kept on `state` for the RateLimit headers. */
export async function enforceRateLimit(
  env: GatewayEnv,
  state: RequestState,
  tenant: TenantContext,
  subject: RateLimitSubject,
): Promise<void> {
  let decision: RateLimitDecision;
  try {
    decision = unwrap(await env.RATELIMIT.limit(tenant, subject));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError("upstream_unavailable", "rate limiter unavailable; try again shortly");
  }
  state.rateLimit = decision;
  if (!decision.allowed) {
    throw new HttpError(
      "rate_limited",
      `rate limit exceeded (${decision.scope === "tenant" ? "tenant-wide" : "per key"}: ${decision.limit}/min); retry after ${decision.retryAfterSeconds}s`,
      { scope: decision.scope, limit: decision.limit, retryAfterSeconds: decision.retryAfterSeconds },
      { "retry-after": String(decision.retryAfterSeconds) },
    );
  }
}

/** Limiter namespace of operator traffic; not a valid tenant id, so it can never collide with one. */
export const OPERATOR_NAMESPACE = "_operator";

/**
 * The context for limiting operator calls per client IP. Operator traffic has its own limit
 * (OPERATOR_RATE_*) and its own namespace, so it neither spends nor is starved by a tenant's quota.
 */
export function operatorContext(env: GatewayEnv, state: RequestState, tenant: TenantConfig): TenantContext {
  const { OPERATOR_RATE_PER_MINUTE: perMinute, OPERATOR_RATE_BURST: burst } = configOf(env);
  const limit = { perMinute, burst };
  return {
    tenantId: OPERATOR_NAMESPACE,
    requestId: state.requestId,
    traceparent: traceparentOf(state.trace),
    scopes: [],
    config: {
      ...tenant,
      id: OPERATOR_NAMESPACE,
      rateLimits: { perKey: limit, tenant: { perMinute: 1_000_000, burst: 100_000 } },
    },
  };
}

/** Sets RateLimit-* headers on a response from the request's decision. */
export function applyRateLimitHeaders(headers: Headers, state: RequestState): void {
  const decision = state.rateLimit;
  if (!decision) return;
  headers.set("ratelimit-limit", String(decision.limit));
  headers.set("ratelimit-remaining", String(decision.remaining));
  headers.set("ratelimit-reset", String(decision.resetSeconds));
}
