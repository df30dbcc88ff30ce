/**
 * Combines what the subject's and the tenant-wide limit said about one request into one decision. Pure.
 *
 * A request is admitted only if both limits admitted it. The decision reports the binding limit:
 * when admitted, the one with fewer requests remaining (the subject's on a tie); when refused,
 * the one that refused (if both did, the one that asks to wait longer, so a retry after
 * `retryAfterSeconds` is not refused again by the other).
 */
import type { RateLimitDecision } from "@crispy/contracts";
import type { RateTake } from "./rate-lease";

export function decide(subject: RateTake, tenant: RateTake): RateLimitDecision {
  const allowed = subject.allowed && tenant.allowed;
  let scope: RateLimitDecision["scope"];
  if (allowed) {
    scope = tenant.remaining < subject.remaining ? "tenant" : "subject";
  } else if (subject.allowed !== tenant.allowed) {
    scope = subject.allowed ? "tenant" : "subject";
  } else {
    scope = tenant.retryAfterSeconds > subject.retryAfterSeconds ? "tenant" : "subject";
  }
  const binding = scope === "subject" ? subject : tenant;
  return {
    allowed,
    limit: binding.limit,
    remaining: allowed ? binding.remaining : 0,
    resetSeconds: binding.resetSeconds,
    retryAfterSeconds: allowed ? 0 : binding.retryAfterSeconds,
    scope,
  };
}
