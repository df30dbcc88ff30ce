/**
 * Test helpers: a fresh tenant (own Durable Objects and budget) whose config allows the local
 * provider's failure-injection models, and `unwrap` for RPC results.
 */
import {
  TenantConfigSchema,
  type TenantConfig,
  type TenantContext,
} from "@crispy/contracts";

export const ECHO = "local/echo-1";
export const FAIL_ALWAYS = "local/fail-always";
export const FAIL_MID_STREAM = "local/fail-after-first-token";
export const SLOW_FIRST_TOKEN = "local/slow-first-token";

export interface TenantOptions {
  chat?: Partial<TenantConfig["ai"]["chat"]>;
  budgets?: TenantConfig["budgets"];
  sessions?: Partial<TenantConfig["sessions"]>;
}

export function freshTenantId(): string {
  return `t-${crypto.randomUUID()}`;
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
  return {
    tenantId,
    requestId: crypto.randomUUID(),
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    keyId: "key-1",
    scopes: ["chat"],
    config,
  };
}

export { failure, unwrap } from "@crispy/testing";
