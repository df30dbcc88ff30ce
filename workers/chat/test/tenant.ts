/**
 * Test helpers: a fresh tenant (own Durable Objects and budget) whose config allows the local
 * provider's failure-injection models, and `unwrap` for RPC results.
 */
import { TenantConfigSchema, type TenantConfig, type TenantContext } from "@crispy/contracts";
import { contextFor, freshTenantId } from "@crispy/testing";

export const ECHO = "local/echo-1";
export const FAIL_ALWAYS = "local/fail-always";
export const FAIL_MID_STREAM = "local/fail-after-first-token";
export const SLOW_FIRST_TOKEN = "local/slow-first-token";

export interface TenantOptions {
  chat?: Partial<TenantConfig["ai"]["chat"]>;
  budgets?: TenantConfig["budgets"];
  sessions?: Partial<TenantConfig["sessions"]>;
}

export function makeTenant(options: TenantOptions = {}, tenantId = freshTenantId()): TenantContext {
  const config: TenantConfig = TenantConfigSchema.parse({
    id: tenantId,
    name: `Test tenant ${tenantId}`,
    ai: {
      gatewayId: "test-gateway",
      chat: {
        default: ECHO,
        fallbacks: [],
        allowed: [ECHO, "local/echo-2", FAIL_ALWAYS, FAIL_MID_STREAM, SLOW_FIRST_TOKEN],
        ...options.chat,
      },
      embeddings: { model: "local/hash-embed-64", dimensions: 64 },
    },
    rateLimits: { perKey: { perMinute: 600, burst: 100 }, tenant: { perMinute: 6000, burst: 1000 } },
    budgets: options.budgets ?? { dailyTokens: 10_000_000, monthlyTokens: 100_000_000 },
    sessions: { retentionDays: 30, maxMessages: 200, ...options.sessions },
  });
  return contextFor(config, ["chat"]);
}

export { failure, freshTenantId, unwrap } from "@crispy/testing";
