/**
 * Request-rate limiting: both of a request's limits (its subject's — an API key's own rate, else
 * the tenant's per-key one — and the tenant-wide one) are taken from this isolate's leases
 * (admission/), which ask crispy-ratelimit only when they run out. Fails closed: when the limiter
 * cannot be reached the request is refused (503), never waved through.
 */
import { keyRateLimit, type RateLimitSubject, type TenantConfig, type TenantContext } from "@crispy/contracts";
import { traceparentOf } from "@crispy/observability";
import { decide } from "./admission/decision";
import { limiterFor } from "./admission/isolate";
import { configOf } from "./config";
import { HttpError } from "./http/errors";
import type { RequestState } from "./state";

/** Admits the request or throws 429; the decision is kept on `state` for the RateLimit headers. */
export async function enforceRateLimit(
  env: GatewayEnv,
  ctx: ExecutionContext,
  state: RequestState,
  tenant: TenantContext,
  subject: RateLimitSubject,
): Promise<void> {
  const { perKey, tenant: tenantWide } = tenant.config.rateLimits;
  // The authenticated key's own rate when it has one (never above perKey; crispy-ratelimit applies the same).
  const ownLimit =
    subject.kind === "key" && subject.id === tenant.keyId ? keyRateLimit(tenant.config, tenant.keyLimits) : perKey;
  const own = limiterFor(env, tenant, { scope: "subject", subject }, ownLimit);
  const wide = limiterFor(env, tenant, { scope: "tenant" }, tenantWide);
  const keepAlive = (call: Promise<unknown>) => ctx.waitUntil(call.catch(() => undefined));
  let taken: Awaited<ReturnType<typeof own.take>>[];
  try {
    taken = await Promise.all([own.take(keepAlive), wide.take(keepAlive)]);
  } catch {
    throw new HttpError("upstream_unavailable", "rate limiter unavailable; try again shortly", undefined, {
      "retry-after": "1",
    });
  }
  const [mine, theirs] = taken as [(typeof taken)[0], (typeof taken)[0]];
  if (mine.allowed && !theirs.allowed) own.putBack();
  if (theirs.allowed && !mine.allowed) wide.putBack();
  const decision = decide(mine, theirs);
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
