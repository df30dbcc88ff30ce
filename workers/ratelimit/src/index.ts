/**
 * crispy-ratelimit: request-rate limits and token budgets for every tenant, over RPC only
 * (no public routes; only the gateway calls it).
 *
 * Owns two Durable Objects, touched by no other worker:
 * - RateLimiter `${tenantId}:${kind}:${id}` — one per subject (API key or client IP), limited by
 *   `config.rateLimits.perKey`; RateLimiter `${tenantId}:*` — the tenant-wide limit
 *   `config.rateLimits.tenant`.
 * - QuotaLedger `${tenantId}` — the tenant's daily and monthly token budgets (`config.budgets`).
 *
 * Invariants:
 * - A request is admitted only if both its subject limit and the tenant-wide limit admit it. Both
 *   are asked in parallel; when only one admits, that admission is refunded before answering, so
 *   neither limit is charged for a refused request. (While a refund is in flight, a concurrent
 *   request may see one token fewer: refusals can be conservative, admissions never exceed.)
 * - Limits and budgets are read from the TenantContext on every call, so a config change applies
 *   to the next request.
 * - Expected failures are `RpcResult` values; a throw means a bug (e.g. an invalid config).
 */
import {
  fail,
  ok,
  type QuotaUsage,
  type RateLimitDecision,
  type RateLimitSubject,
  type Reservation,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { InternalEntrypoint, stubFor } from "@crispy/worker-kit";
import { decide } from "./decision";
import { QuotaLedger } from "./quota-ledger";
import { RateLimiter } from "./rate-limiter";

export { QuotaLedger, RateLimiter };

const MAX_SUBJECT_ID_LENGTH = 512;

function subjectError(subject: RateLimitSubject): string | null {
  if (subject?.kind !== "key" && subject?.kind !== "ip") {
    return 'subject.kind must be "key" or "ip"';
  }
  if (typeof subject.id !== "string" || subject.id.length === 0) {
    return "subject.id must be a non-empty string";
  }
  if (subject.id.length > MAX_SUBJECT_ID_LENGTH) {
    return `subject.id must be at most ${MAX_SUBJECT_ID_LENGTH} characters`;
  }
  return null;
}

export default class RateLimitService extends InternalEntrypoint<RatelimitEnv> {
  protected readonly worker = "ratelimit";

  /** Admits one request for `subject` if both its own and the tenant-wide rate limit allow it. */
  async limit(tenant: TenantContext, subject: RateLimitSubject): Promise<RpcResult<RateLimitDecision>> {
    const invalid = subjectError(subject);
    if (invalid) return fail("bad_request", invalid);

    const { perKey, tenant: tenantWide } = tenant.config.rateLimits;
    const subjectLimiter = stubFor(this.env.RATE_LIMITER, tenant.tenantId, subject.kind, subject.id);
    const tenantLimiter = stubFor(this.env.RATE_LIMITER, tenant.tenantId, "*");
    const [subjectResult, tenantResult] = await Promise.all([
      subjectLimiter.take(perKey),
      tenantLimiter.take(tenantWide),
    ]);
    if (subjectResult.allowed && !tenantResult.allowed) await subjectLimiter.refund(perKey);
    if (tenantResult.allowed && !subjectResult.allowed) await tenantLimiter.refund(tenantWide);
    return ok(decide(subjectResult, tenantResult));
  }

  /** Reserves an estimate of `tokens` against the tenant's daily and monthly budgets. */
  async reserve(tenant: TenantContext, tokens: number): Promise<RpcResult<Reservation>> {
    return this.#ledger(tenant).reserve(tokens, tenant.config.budgets);
  }

  /** Closes a reservation and charges the `actualTokens` used; returns the usage after it. */
  async settle(tenant: TenantContext, reservationId: string, actualTokens: number): Promise<RpcResult<QuotaUsage>> {
    return this.#ledger(tenant).settle(reservationId, actualTokens, tenant.config.budgets);
  }

  /** Closes a reservation without charging it (nothing ran); returns the usage after it. */
  async release(tenant: TenantContext, reservationId: string): Promise<RpcResult<QuotaUsage>> {
    return this.#ledger(tenant).release(reservationId, tenant.config.budgets);
  }

  /** Reads the tenant's token usage for the current UTC day and month. */
  async usage(tenant: TenantContext): Promise<RpcResult<QuotaUsage>> {
    return this.#ledger(tenant).usage(tenant.config.budgets);
  }

  #ledger(tenant: TenantContext): DurableObjectStub<QuotaLedger> {
    return stubFor(this.env.QUOTA_LEDGER, tenant.tenantId);
  }
}
