/**
 * An API key's own limits against its tenant's: each at most the tenant's corresponding limit
 * (`rateLimits.perKey`, `budgets`), checked when the limits are set, with a 400 naming the field.
 * The tenant has no tokens-per-minute limit nor USD budget of its own, so a key's are bounded by
 * KEY_LIMIT_MAXIMA (the schema). At enforcement the tenant's limits are applied again (a key never
 * gets more than its tenant, even after the tenant config was lowered): `keyRateLimit`,
 * `keyTokenBudgets` in shared/contracts.
 */
import {
  KEY_LIMIT_FIELDS,
  type KeyLimits,
  type KeyLimitsPatch,
  maxPricePerMillionTokens,
  type TenantConfig,
} from "@crispy/contracts";
import { HttpError } from "../http/errors";

function fieldError(field: keyof KeyLimits, message: string): HttpError {
  return new HttpError("validation_failed", `limits.${field}: ${message}`, {
    issues: [{ path: `limits.${field}`, message }],
  });
}

/** Throws a 400 naming the first field of `limits` the tenant's config does not allow. */
export function checkKeyLimits(config: TenantConfig, limits: KeyLimits | null | undefined): void {
  if (!limits) return;
  const bounds: Array<[keyof KeyLimits, number, string]> = [
    ["requestsPerMinute", config.rateLimits.perKey.perMinute, "rateLimits.perKey.perMinute"],
    ["burst", config.rateLimits.perKey.burst, "rateLimits.perKey.burst"],
    ["dailyTokens", config.budgets.dailyTokens, "budgets.dailyTokens"],
    ["monthlyTokens", config.budgets.monthlyTokens, "budgets.monthlyTokens"],
  ];
  for (const [field, max, source] of bounds) {
    const value = limits[field];
    if (value !== undefined && value > max) {
      throw fieldError(field, `must be at most the tenant's ${max} (${source})`);
    }
  }
  if (
    limits.dailyTokens !== undefined &&
    limits.monthlyTokens !== undefined &&
    limits.dailyTokens > limits.monthlyTokens
  ) {
    throw fieldError("dailyTokens", `cannot exceed monthlyTokens (${limits.monthlyTokens})`);
  }
  if (limits.dailyUsd !== undefined && limits.monthlyUsd !== undefined && limits.dailyUsd > limits.monthlyUsd) {
    throw fieldError("dailyUsd", `cannot exceed monthlyUsd (${limits.monthlyUsd})`);
  }
  for (const field of ["dailyUsd", "monthlyUsd"] as const) {
    if (limits[field] !== undefined && maxPricePerMillionTokens(config) === 0) {
      throw fieldError(
        field,
        `tenant "${config.id}" prices none of the models a key can use (pricing), so a USD budget could never bind`,
      );
    }
  }
}

/** `current` changed by a merge patch (a field given is set, null removes it); null when nothing is left. */
export function mergeKeyLimits(current: KeyLimits | null, patch: KeyLimitsPatch | null): KeyLimits | null {
  if (patch === null) return null;
  const merged: Record<string, number> = {};
  for (const field of KEY_LIMIT_FIELDS) {
    const value = patch[field] !== undefined ? patch[field] : current?.[field];
    if (value !== null && value !== undefined) merged[field] = value;
  }
  return Object.keys(merged).length > 0 ? (merged as KeyLimits) : null;
}
