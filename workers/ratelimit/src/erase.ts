/**
 * Tenant erasure for the ratelimit worker (docs/erasure.md). Durable Objects cannot be listed, so
 * it erases the objects whose names it can derive:
 * - RateLimiter `${tenantId}:*` (tenant-wide) and, for every key id the job passes (it read them
 *   from the gateway's key database before deleting the keys), `${tenantId}:key:${keyId}` (request
 *   rate) and `${tenantId}:tokens:${keyId}` (token rate);
 * - QuotaLedger `${tenantId}` and `${tenantId}:key:${keyId}` (the key's own budgets);
 * - UsageLog `${tenantId}` (usage rows), in bounded batches.
 *
 * Per-IP limiters are not tenant data: only the operator API limits by client IP, in its own
 * namespace (`_operator:ip:<ip>`), and a limiter holds one GCRA timestamp — nothing is erased there.
 *
 * Idempotent: erasing an erased (or never used) object deletes nothing. `done` once the usage log
 * is empty; the limiters and ledgers of the key ids passed are erased on every call.
 */
import {
  type EraseReport,
  type EraseRequest,
  eraseCallOf,
  ok,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { stubFor } from "@crispy/worker-kit";

/** Erases the tenant's limiters, ledgers and one batch of usage rows (or, with `mode: "count"`, counts what is left). */
export async function eraseTenant(
  env: RatelimitEnv,
  tenant: TenantContext,
  request: EraseRequest | undefined,
): Promise<RpcResult<EraseReport>> {
  const call = eraseCallOf(tenant, request);
  if (!call.ok) return call;
  const { mode, batchSize, keyIds } = call.value;
  const id = tenant.tenantId;
  const limiters = [
    stubFor(env.RATE_LIMITER, id, "*"),
    ...keyIds.flatMap((keyId) => [
      stubFor(env.RATE_LIMITER, id, "key", keyId),
      stubFor(env.RATE_LIMITER, id, "tokens", keyId),
    ]),
  ];
  const ledgers = [
    stubFor(env.QUOTA_LEDGER, id),
    ...keyIds.map((keyId) => stubFor(env.QUOTA_LEDGER, id, "key", keyId)),
  ];
  const usageLog = stubFor(env.USAGE_LOG, id);

  if (mode === "count") {
    const [held, rows, usage] = await Promise.all([
      Promise.all(limiters.map((limiter) => limiter.held())),
      Promise.all(ledgers.map((ledger) => ledger.erasureCount())),
      usageLog.counts(),
    ]);
    const counts = {
      rateLimiters: held.filter(Boolean).length,
      ledgerRows: rows.reduce((sum, n) => sum + n, 0),
      usageRequests: usage.requests,
      usageModelCalls: usage.modelCalls,
    };
    return ok({ done: Object.values(counts).every((n) => n === 0), counts });
  }

  const [held, rows, usage] = await Promise.all([
    Promise.all(limiters.map((limiter) => limiter.erase())),
    Promise.all(ledgers.map((ledger) => ledger.erase())),
    usageLog.eraseBatch(batchSize),
  ]);
  return ok({
    done: usage.done,
    counts: {
      rateLimiters: held.filter(Boolean).length,
      ledgerRows: rows.reduce((sum, n) => sum + n, 0),
      usageRequests: usage.deleted.requests,
      usageModelCalls: usage.deleted.modelCalls,
    },
  });
}
