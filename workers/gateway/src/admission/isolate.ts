/**
 * This isolate's admission state: one LeasedLimiter per limit (a subject's, the tenant-wide one)
 * and one BudgetPool per tenant — plus one per API key that has budgets of its own — each
 * reaching its Durable Object through crispy-ratelimit only when its lease runs out. Bounded: beyond MAX_ENTRIES the oldest entry is dropped (its unused
 * admissions or tokens are then simply not used — conservative, never an over-admission).
 *
 * A lease call is kept alive with `ctx.waitUntil` of the request that started it, so the requests
 * waiting for it are answered even if that request's client went away.
 */
import type { RateLimiterRef, RateLimitConfig, TenantContext } from "@crispy/contracts";
import { BudgetPool } from "./budget-pool";
import { LeasedLimiter, leasePolicyFor } from "./rate-lease";

const MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: T;
  /** The context of the latest request that used it: lease calls carry its request id. */
  tenant: TenantContext;
}

const limiters = new Map<string, Entry<LeasedLimiter>>();
const pools = new Map<string, Entry<BudgetPool>>();

function remember<T>(map: Map<string, Entry<T>>, key: string, tenant: TenantContext, make: (entry: Entry<T>) => T): T {
  let entry = map.get(key);
  if (!entry) {
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string);
    entry = { value: undefined as T, tenant };
    entry.value = make(entry);
    map.set(key, entry);
  }
  entry.tenant = tenant;
  return entry.value;
}

/** Thrown when crispy-ratelimit answered a lease call with a failure (a bug or a bad config). */
export class LeaseRefused extends Error {}

/**
 * The limiter of `ref` for `tenant`, with `limit` (its perKey or tenant-wide config, or a key's
 * own rate). A changed limit is a new limiter (its lease policy depends on the burst); the old
 * one's unused admissions are simply not used.
 */
export function limiterFor(
  env: GatewayEnv,
  tenant: TenantContext,
  ref: RateLimiterRef,
  limit: RateLimitConfig,
): LeasedLimiter {
  const key =
    (ref.scope === "tenant"
      ? `${tenant.tenantId}\u0000*`
      : `${tenant.tenantId}\u0000${ref.subject.kind}\u0000${ref.subject.id}`) +
    `\u0000${limit.perMinute}/${limit.burst}`;
  return remember(limiters, key, tenant, (entry) => {
    const source = {
      lease: async (want: number, giveBack: number) => {
        const result = await env.RATELIMIT.leaseRate(entry.tenant, ref, want, giveBack);
        if (!result.ok) throw new LeaseRefused(`${result.error.code}: ${result.error.message}`);
        return result.value;
      },
    };
    return new LeasedLimiter(source, leasePolicyFor(limit.burst));
  });
}

/** The budget pool of `tenant`. */
export function poolFor(env: GatewayEnv, tenant: TenantContext): BudgetPool {
  return remember(
    pools,
    tenant.tenantId,
    tenant,
    (entry) => new BudgetPool({ lease: (request) => env.RATELIMIT.leaseBudget(entry.tenant, request) }),
  );
}

/**
 * The budget pool of the key that authenticated `tenant` (its QuotaLedger `${tenantId}:key:${keyId}`).
 * Lease calls carry the latest request's context, so changed key limits apply to the next one.
 */
export function keyPoolFor(env: GatewayEnv, tenant: TenantContext & { keyId: string }): BudgetPool {
  return remember(
    pools,
    `${tenant.tenantId}\u0000key\u0000${tenant.keyId}`,
    tenant,
    (entry) => new BudgetPool({ lease: (request) => env.RATELIMIT.leaseBudget(entry.tenant, request, "key") }),
  );
}
