/** Test helper: a fresh tenant (own DOs) with a complete config and overridable limits. */
import { TenantConfigSchema, type RateLimitConfig, type TenantConfig, type TenantContext } from "@crispy/contracts";
import { contextFor, freshTenantId } from "@crispy/testing";

export interface TenantOptions {
  perKey?: RateLimitConfig;
  tenant?: RateLimitConfig;
  budgets?: TenantConfig["budgets"];
}

export function makeTenant(options: TenantOptions = {}, tenantId = freshTenantId()): TenantContext {
  const config: TenantConfig = TenantConfigSchema.parse({
    id: tenantId,
    name: `Test tenant ${tenantId}`,
    hosts: [],
    cors: { allowedOrigins: [], maxAgeSeconds: 600 },
    ai: {
      gatewayId: "test-gateway",
      chat: { default: "local/chat", fallbacks: [], allowed: ["local/chat"] },
      embeddings: { model: "local/embed", dimensions: 64 },
    },
    rateLimits: {
      perKey: options.perKey ?? { perMinute: 60, burst: 10 },
      tenant: options.tenant ?? { perMinute: 6000, burst: 1000 },
    },
    budgets: options.budgets ?? { dailyTokens: 10_000, monthlyTokens: 100_000 },
    sessions: { retentionDays: 30, maxMessages: 200 },
    retrieval: { defaultTopK: 5, maxTopK: 20, rerank: false },
    features: { chat: true, search: true, ingest: true, tools: true, ragByDefault: false },
  });
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
