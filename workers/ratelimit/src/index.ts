/**
 * crispy-ratelimit: request-rate limits and token budgets for every tenant, over RPC only
 * (no public routes; only the gateway calls it). Both are handed out in leases, which the
 * gateway's isolates spend locally (workers/gateway/src/admission), so most requests make no call
 * here at all.
 *
 * Owns two Durable Objects, touched by no other worker:
 * - RateLimiter `${tenantId}:${kind}:${id}` — one per subject (API key or client IP), limited by
 *   `config.rateLimits.perKey`; RateLimiter `${tenantId}:*` — the tenant-wide limit
 *   `config.rateLimits.tenant`.
 * - QuotaLedger `${tenantId}` — the tenant's daily and monthly token budgets (`config.budgets`).
 *
 * Invariants:
 * - Every leased admission and every leased budget token is charged in its object when granted,
 *   so the isolates together can never admit more than a limit, nor spend more than a budget
 *   (beyond usage a turn reports over what it reserved).
 * - Limits and budgets are read from the TenantContext on every call, so a config change applies
 *   to the next lease.
 * - Expected failures are `RpcResult` values; a throw means a bug.
 */
import {
  type BudgetLease,
  fail,
  type LeaseRequest,
  ok,
  type QuotaUsage,
  type RateLease,
  type RateLimiterRef,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { InternalEntrypoint, stubFor } from "@crispy/worker-kit";
import { QuotaLedger } from "./quota-ledger";
import { RateLimiter } from "./rate-limiter";

export { QuotaLedger, RateLimiter };

const MAX_SUBJECT_ID_LENGTH = 512;

function limiterError(limiter: RateLimiterRef): string | null {
  if (limiter?.scope === "tenant") return null;
  if (limiter?.scope !== "subject") return 'limiter.scope must be "subject" or "tenant"';
  const subject = limiter.subject;
  if (subject?.kind !== "key" && subject?.kind !== "ip") return 'limiter.subject.kind must be "key" or "ip"';
  if (typeof subject.id !== "string" || subject.id.length === 0) return "limiter.subject.id must be a non-empty string";
  if (subject.id.length > MAX_SUBJECT_ID_LENGTH) {
    return `limiter.subject.id must be at most ${MAX_SUBJECT_ID_LENGTH} characters`;
  }
  return null;
}

function countError(name: string, value: unknown, max: number): string | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= max
    ? null
    : `${name} must be an integer from 0 to ${max}`;
}

export default class RateLimitService extends InternalEntrypoint<RatelimitEnv> {
  protected readonly worker = "ratelimit";

  /** Takes back `giveBack` unused admissions of one limiter, then leases up to `want` (each charged at once). */
  async leaseRate(
    tenant: TenantContext,
    limiter: RateLimiterRef,
    want: number,
    giveBack: number,
  ): Promise<RpcResult<RateLease>> {
    const invalid = limiterError(limiter);
    if (invalid) return fail("bad_request", invalid);
    const limit = limiter.scope === "tenant" ? tenant.config.rateLimits.tenant : tenant.config.rateLimits.perKey;
    const problem = countError("want", want, limit.burst) ?? countError("giveBack", giveBack, limit.burst);
    if (problem) return fail("bad_request", problem);
    const stub =
      limiter.scope === "tenant"
        ? stubFor(this.env.RATE_LIMITER, tenant.tenantId, "*")
        : stubFor(this.env.RATE_LIMITER, tenant.tenantId, limiter.subject.kind, limiter.subject.id);
    return ok(await stub.lease(limit, want, giveBack));
  }

  /** Charges a budget lease's reported usage and resizes it (opens it when `leaseId` is null, closes it at size 0). */
  async leaseBudget(tenant: TenantContext, request: LeaseRequest): Promise<RpcResult<BudgetLease>> {
    return this.#ledger(tenant).lease(request, tenant.config.budgets);
  }

  /** Reads the tenant's token usage for the current UTC day and month. */
  async usage(tenant: TenantContext): Promise<RpcResult<QuotaUsage>> {
    return this.#ledger(tenant).usage(tenant.config.budgets);
  }

  #ledger(tenant: TenantContext): DurableObjectStub<QuotaLedger> {
    return stubFor(this.env.QUOTA_LEDGER, tenant.tenantId);
  }
}
