/** Test helper: a fresh tenant (own DOs) with a complete config and overridable limits. */
import type { RateLimitConfig, TenantConfig, TenantContext } from "@crispy/contracts";
import { contextFor, freshTenantId, testConfig } from "@crispy/testing";

export interface TenantOptions {
  perKey?: RateLimitConfig;
  tenant?: RateLimitConfig;
  budgets?: TenantConfig["budgets"];
}

export function makeTenant(options: TenantOptions = {}, tenantId = freshTenantId()): TenantContext {
  const config = testConfig(
    {
      rateLimits: {
        perKey: options.perKey ?? { perMinute: 60, burst: 10 },
        tenant: options.tenant ?? { perMinute: 6000, burst: 1000 },
      },
      budgets: options.budgets ?? { dailyTokens: 10_000, monthlyTokens: 100_000 },
    },
    tenantId,
  );
  return contextFor(config, ["chat"]);
}

/** Replaces the tenant's config parts in place of a config change between requests. */
export function withConfig(tenant: TenantContext, options: TenantOptions): TenantContext {
  return {
    ...tenant,
    config: {
      ...tenant.config,
      rateLimits: {
        perKey: options.perKey ?? tenant.config.rateLimits.perKey,
        tenant: options.tenant ?? tenant.config.rateLimits.tenant,
      },
      budgets: options.budgets ?? tenant.config.budgets,
    },
  };
}

export { freshTenantId, unwrap } from "@crispy/testing";
