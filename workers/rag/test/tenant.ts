/**
 * Test helpers: a fresh tenant (its own TenantIndex, cache keys and vector namespace) on the local
 * provider, and `unwrap` / `failure` for RPC results.
 */
import { TenantConfigSchema, type TenantConfig, type TenantContext } from "@crispy/contracts";
import { contextFor, freshTenantId } from "@crispy/testing";

export const ECHO = "local/echo-1";
export const EMBEDDINGS = { model: "local/hash-embed-384", dimensions: 384 } as const;

export interface TenantOptions {
  retrieval?: Partial<TenantConfig["retrieval"]>;
  chat?: Partial<TenantConfig["ai"]["chat"]>;
}

export function makeTenant(options: TenantOptions = {}, tenantId = freshTenantId()): TenantContext {
  const config: TenantConfig = TenantConfigSchema.parse({
    id: tenantId,
    name: `Test tenant ${tenantId}`,
    ai: {
      gatewayId: "test-gateway",
      chat: { default: ECHO, fallbacks: [], allowed: [ECHO, "local/echo-2", "local/fail-always"], ...options.chat },
      embeddings: EMBEDDINGS,
    },
    rateLimits: { perKey: { perMinute: 600, burst: 100 }, tenant: { perMinute: 6000, burst: 1000 } },
    budgets: { dailyTokens: 10_000_000, monthlyTokens: 100_000_000 },
    retrieval: { defaultTopK: 5, maxTopK: 20, rerank: false, ...options.retrieval },
  });
  return contextFor(config, ["search", "ingest"]);
}

export { failure, freshTenantId, unwrap } from "@crispy/testing";
