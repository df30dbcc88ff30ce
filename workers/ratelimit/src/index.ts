/**
 * crispy-ratelimit: request-rate limits and token budgets for every tenant, over RPC only
 * (no public routes; only the gateway calls it). Both are handed out in leases, which the
 * gateway's isolates spend locally (workers/gateway/src/admission), so most requests make no call
 * here at all.
 *
 * Owns two Durable Objects, touched by no other worker:
 * - RateLimiter `${tenantId}:${kind}:${id}` — one per subject (API key or client IP), limited by
 *   `config.rateLimits.perKey` (or by the key's own `keyLimits` rate, never above it); RateLimiter
 *   `${tenantId}:*` — the tenant-wide limit `config.rateLimits.tenant`; RateLimiter
 *   `${tenantId}:tokens:${keyId}` — a key's tokens per minute, for keys that have that limit.
 * - QuotaLedger `${tenantId}` — the tenant's daily and monthly token budgets (`config.budgets`);
 *   QuotaLedger `${tenantId}:key:${keyId}` — a key's own budgets (`keyLimits`, USD converted to
 *   tokens by the contracts' `keyTokenBudgets`), for keys that have one.
 * - UsageLog `${tenantId}` — the tenant's usage analytics: a row per request and per model call
 *   (`recordUsage`), the reports over them (`usageReport`, `requestUsage`); docs/usage.md. In
 *   production each point also goes to the Analytics Engine dataset USAGE_EVENTS, declared only in
 *   wrangler.jsonc's `env.production` (the offline default env has no dataset to write to).
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
  type BudgetScope,
  type EraseReport,
  type EraseRequest,
  fail,
  keyRateLimit,
  keyTokenBudgets,
  type LeaseRequest,
  ok,
  type QuotaUsage,
  type RateLease,
  type RateLimiterRef,
  type RequestUsage,
  type RpcResult,
  type TenantContext,
  type TokenRateCharge,
  USAGE_LIMITS,
  type UsageReport,
} from "@crispy/contracts";
import { InternalEntrypoint, stubFor } from "@crispy/worker-kit";
import { eraseTenant } from "./erase";
import { callingKey } from "./key-limits";
import { QuotaLedger, type TokenBudgets } from "./quota-ledger";
import { RateLimiter } from "./rate-limiter";
import { UsageLog } from "./usage-log";
import { checkPoints, dataPointOf } from "./usage-points";
import { checkUsageQuery, orderRows } from "./usage-query";

export { QuotaLedger, RateLimiter, UsageLog };

const MAX_SUBJECT_ID_LENGTH = 512;
/** The most tokens one token-rate charge may be for (the gateway's largest reservation). */
const MAX_TOKEN_CHARGE = 10_000_000;

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
    let limit = limiter.scope === "tenant" ? tenant.config.rateLimits.tenant : tenant.config.rateLimits.perKey;
    if (limiter.scope === "subject" && limiter.subject.kind === "key" && limiter.subject.id === tenant.keyId) {
      const key = callingKey(tenant);
      if (!key.ok) return fail("bad_request", key.problem);
      limit = keyRateLimit(tenant.config, key.limits);
    }
    const problem = countError("want", want, limit.burst) ?? countError("giveBack", giveBack, limit.burst);
    if (problem) return fail("bad_request", problem);
    const stub =
      limiter.scope === "tenant"
        ? stubFor(this.env.RATE_LIMITER, tenant.tenantId, "*")
        : stubFor(this.env.RATE_LIMITER, tenant.tenantId, limiter.subject.kind, limiter.subject.id);
    return ok(await stub.lease(limit, want, giveBack));
  }

  /**
   * Charges a budget lease's reported usage and resizes it (opens it when `leaseId` is null, closes
   * it at size 0): on the tenant's ledger, or (`scope` "key") on the calling key's own.
   */
  async leaseBudget(
    tenant: TenantContext,
    request: LeaseRequest,
    scope: BudgetScope = "tenant",
  ): Promise<RpcResult<BudgetLease>> {
    const ledger = this.#ledgerFor(tenant, scope);
    if (!ledger.ok) return fail("bad_request", ledger.problem);
    return ledger.stub.lease(request, ledger.budgets);
  }

  /** Reads the token usage for the current UTC day and month: the tenant's, or (`scope` "key") the calling key's. */
  async usage(tenant: TenantContext, scope: BudgetScope = "tenant"): Promise<RpcResult<QuotaUsage>> {
    const ledger = this.#ledgerFor(tenant, scope);
    if (!ledger.ok) return fail("bad_request", ledger.problem);
    return ledger.stub.usage(ledger.budgets);
  }

  /**
   * The calling key's token-rate limit (`keyLimits.tokensPerMinute`, a GCRA over tokens whose
   * burst is one minute of it): refunds `refund` tokens an earlier charge did not use, then
   * charges `tokens` all at once or not at all.
   */
  async chargeTokenRate(tenant: TenantContext, tokens: number, refund: number): Promise<RpcResult<TokenRateCharge>> {
    const key = callingKey(tenant);
    if (!key.ok) return fail("bad_request", key.problem);
    const perMinute = key.limits?.tokensPerMinute;
    if (perMinute === undefined) return fail("bad_request", "the key has no tokensPerMinute limit");
    const problem = countError("tokens", tokens, MAX_TOKEN_CHARGE) ?? countError("refund", refund, perMinute);
    if (problem) return fail("bad_request", problem);
    const stub = stubFor(this.env.RATE_LIMITER, tenant.tenantId, "tokens", key.keyId);
    return ok(await stub.charge({ perMinute, burst: perMinute }, tokens, refund));
  }

  /** Records usage points (at most USAGE_LIMITS.maxPointsPerCall): the tenant's UsageLog, and Analytics Engine when bound. */
  async recordUsage(tenant: TenantContext, points: unknown[]): Promise<RpcResult<{ recorded: number }>> {
    const checked = checkPoints(points, tenant.config.pricing, Date.now());
    if (!checked.ok) return fail("bad_request", checked.problem);
    const dataset = this.env.USAGE_EVENTS;
    if (dataset) for (const point of checked.points) dataset.writeDataPoint(dataPointOf(tenant.tenantId, point));
    return ok({ recorded: await this.#usageLog(tenant).record(checked.points) });
  }

  /** The tenant's usage over UTC days `from`..`to`, grouped by day, key, model or route (only `keyId`'s, if given). */
  async usageReport(tenant: TenantContext, query: unknown): Promise<RpcResult<UsageReport>> {
    const checked = checkUsageQuery(query);
    if (!checked.ok) return fail("bad_request", checked.problem);
    const { from, to, fromMs, toMs, groupBy, keyId } = checked.value;
    const { rows, totals } = await this.#usageLog(tenant).report(fromMs, toMs, groupBy, keyId);
    return ok({ range: { from, to }, groupBy, keyId, rows: orderRows(rows, checked.value), totals });
  }

  /** What was recorded under one request id (only `keyId`'s rows when it is a string). */
  async requestUsage(tenant: TenantContext, requestId: string, keyId: string | null): Promise<RpcResult<RequestUsage>> {
    if (typeof requestId !== "string" || requestId.length === 0 || requestId.length > USAGE_LIMITS.maxRequestIdLength) {
      return fail("bad_request", `requestId must be 1-${USAGE_LIMITS.maxRequestIdLength} characters`);
    }
    if (keyId !== null && (typeof keyId !== "string" || keyId.length > USAGE_LIMITS.maxKeyIdLength)) {
      return fail("bad_request", "keyId must be null or a key id");
    }
    return ok(await this.#usageLog(tenant).request(requestId, keyId));
  }

  /**
   * Tenant erasure (the gateway's erasure job only): the tenant-wide limiter and ledger, those of
   * `request.keyIds`, and one batch of usage rows — or a count of what is left.
   */
  async eraseTenant(tenant: TenantContext, request?: EraseRequest): Promise<RpcResult<EraseReport>> {
    return eraseTenant(this.env, tenant, request);
  }

  #usageLog(tenant: TenantContext): DurableObjectStub<UsageLog> {
    return stubFor(this.env.USAGE_LOG, tenant.tenantId);
  }

  /** The tenant's QuotaLedger `${tenantId}`, or the calling key's `${tenantId}:key:${keyId}`, with its budgets. */
  #ledgerFor(
    tenant: TenantContext,
    scope: BudgetScope,
  ): { ok: true; stub: DurableObjectStub<QuotaLedger>; budgets: TokenBudgets } | { ok: false; problem: string } {
    if (scope === "tenant") {
      return { ok: true, stub: stubFor(this.env.QUOTA_LEDGER, tenant.tenantId), budgets: tenant.config.budgets };
    }
    if (scope !== "key") return { ok: false, problem: 'scope must be "tenant" or "key"' };
    const key = callingKey(tenant);
    if (!key.ok) return key;
    // A key without a budget of its own is bounded by the tenant's (so a lease opened before its
    // budget was removed can still be closed).
    const own = keyTokenBudgets(tenant.config, key.limits);
    const budgets = own ? { dailyTokens: own.dailyTokens, monthlyTokens: own.monthlyTokens } : tenant.config.budgets;
    return { ok: true, stub: stubFor(this.env.QUOTA_LEDGER, tenant.tenantId, "key", key.keyId), budgets };
  }
}
