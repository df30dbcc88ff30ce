/**
 * What a listing of keys shows of each active, budgeted key's spending: its own QuotaLedger's
 * daily and monthly windows (one Durable Object call per such key, at most KEY_USAGE_MAX_READS,
 * all at once). Keys without budgets cost nothing here.
 */
import {
  KEY_USAGE_MAX_READS,
  keyTokenBudgets,
  type ListedApiKey,
  type TenantConfig,
  type TenantContext,
} from "@crispy/contracts";
import { traceparentOf } from "@crispy/observability";
import type { KeyRecord } from "../auth/api-keys";
import type { RequestState } from "../state";

function active(key: KeyRecord, now: number): boolean {
  return key.revokedAt === null && (key.expiresAt === null || Date.parse(key.expiresAt) > now);
}

/** `keys` of `config`'s tenant, each budgeted active one with its usage. */
export async function withKeyUsage(
  env: GatewayEnv,
  state: RequestState,
  config: TenantConfig,
  keys: KeyRecord[],
): Promise<ListedApiKey[]> {
  const now = Date.now();
  const budgeted = keys.filter((key) => active(key, now) && keyTokenBudgets(config, key.limits) !== null);
  const read = new Set(budgeted.slice(0, KEY_USAGE_MAX_READS).map((key) => key.id));
  const usage = new Map<string, ListedApiKey["usage"]>();
  await Promise.all(
    budgeted
      .filter((key) => read.has(key.id))
      .map(async (key) => {
        const context: TenantContext = {
          tenantId: config.id,
          requestId: state.requestId,
          traceparent: traceparentOf(state.trace),
          keyId: key.id,
          scopes: key.scopes,
          ...(key.limits ? { keyLimits: key.limits } : {}),
          config,
        };
        try {
          const result = await env.RATELIMIT.usage(context, "key");
          usage.set(key.id, result.ok ? { daily: result.value.daily, monthly: result.value.monthly } : null);
        } catch {
          usage.set(key.id, null);
        }
      }),
  );
  return keys.map((key) => {
    if (!budgeted.includes(key)) return key;
    return { ...key, usage: usage.get(key.id) ?? null };
  });
}
