/**
 * What a request spends beyond its tenant's limits when its API key has limits of its own: the
 * key's budget pool (QuotaLedger `${tenantId}:key:${keyId}`, reserved and settled with the
 * tenant's for every turn) and its token-rate limit. A key without such limits gets neither, so
 * it costs no Durable Object call more than before.
 */
import {
  type KeyLimits,
  type KeyTokenBudgets,
  keyTokenBudgets,
  type RpcError,
  type TenantContext,
} from "@crispy/contracts";
import { keyPoolFor } from "./isolate";
import { KeyTokenRate } from "./token-rate";
import type { BudgetPart } from "./turn-budget";

const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** The ledger's refusal told as the key's: which of its budgets (tokens or USD, daily or monthly) is spent. */
export function keyRefusal(keyId: string, limits: KeyLimits, budgets: KeyTokenBudgets): (error: RpcError) => RpcError {
  return (error) => {
    if (error.code !== "budget_exceeded") return error;
    const window = error.details?.window === "daily" ? "daily" : "monthly";
    const unit = budgets.units[window];
    const amount = window === "daily" ? limits.dailyUsd : limits.monthlyUsd;
    const what =
      unit === "usd" && amount !== undefined
        ? `${window} USD budget (${usd(amount)}, counted at ${usd(budgets.pricePerMillion)} per million tokens: the most expensive model the key can use)`
        : `${window} token budget (${window === "daily" ? budgets.dailyTokens : budgets.monthlyTokens})`;
    const reason = error.message.includes(": ") ? error.message.slice(error.message.indexOf(": ") + 2) : error.message;
    return {
      code: error.code,
      message: `key ${keyId}'s ${what} exceeded: ${reason}`,
      details: { ...error.details, budget: "key", keyId, unit: unit ?? "tokens" },
    };
  };
}

/** The key's own budget part of a turn, or null when the key has no budget that binds. */
export function keyBudgetPart(env: GatewayEnv, tenant: TenantContext): BudgetPart | null {
  const { keyId, keyLimits } = tenant;
  if (keyId === undefined || !keyLimits) return null;
  const budgets = keyTokenBudgets(tenant.config, keyLimits);
  if (!budgets) return null;
  return { pool: keyPoolFor(env, { ...tenant, keyId }), refusal: keyRefusal(keyId, keyLimits, budgets) };
}

/** The key's token-rate limit, or null when it has none. */
export function keyTokenRate(env: GatewayEnv, tenant: TenantContext): KeyTokenRate | null {
  const perMinute = tenant.keyLimits?.tokensPerMinute;
  if (tenant.keyId === undefined || perMinute === undefined) return null;
  return new KeyTokenRate(env, tenant, tenant.keyId, perMinute);
}
