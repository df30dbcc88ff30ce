/**
 * Test tenants for every worker's suite: a complete, validated config for a fresh tenant id (its
 * own Durable Objects, budgets and keys) with the local provider's models, and the TenantContext
 * every RPC method takes first, as the gateway would build it.
 */
import { type Scope, type TenantConfig, TenantConfigSchema, type TenantContext } from "@crispy/contracts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** The local provider's models tests use: a plain one, a second plain one, failure injection, a tool looper. */
export const MODELS = {
  echo: "local/echo-1",
  echo2: "local/echo-2",
  failAlways: "local/fail-always",
  failMidStream: "local/fail-after-first-token",
  slowFirstToken: "local/slow-first-token",
  /** Calls a tool on every answer (for tool-loop step bounds). */
  toolLoop: "local/tool-loop",
} as const;

/** A tenant id no other test uses, so every test gets its own Durable Objects and keys. */
export function freshTenantId(): string {
  return `t-${crypto.randomUUID()}`;
}

type Overrides<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K];
};

function merge<T>(base: T, overrides: Overrides<T> | undefined): T {
  if (overrides === undefined) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    out[key] =
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      typeof current === "object" &&
      current !== null
        ? merge(current, value as Overrides<typeof current>)
        : value;
  }
  return out as T;
}

/** A complete config (validated like a tenants/<id>/tenant.config.json) with `overrides` merged in. */
export function testConfig(overrides?: Overrides<TenantConfig>, tenantId = freshTenantId()): TenantConfig {
  const base = TenantConfigSchema.parse({
    id: tenantId,
    name: `Test tenant ${tenantId}`,
    ai: {
      gatewayId: "test-gateway",
      chat: { default: MODELS.echo, fallbacks: [], allowed: Object.values(MODELS) },
      embeddings: { model: "local/hash-embed-64", dimensions: 64 },
    },
    rateLimits: { perKey: { perMinute: 600, burst: 100 }, tenant: { perMinute: 6000, burst: 1000 } },
    budgets: { dailyTokens: 10_000_000, monthlyTokens: 100_000_000 },
  });
  return TenantConfigSchema.parse(merge(base, overrides));
}

/** A context for `config` (a fresh request id), authenticated by key "key-1" with `scopes`. */
export function contextFor(config: TenantConfig, scopes: Scope[] = []): TenantContext {
  return {
    tenantId: config.id,
    requestId: crypto.randomUUID(),
    traceparent: TRACEPARENT,
    keyId: "key-1",
    scopes,
    config,
  };
}

/** A context for a fresh test tenant: `testConfig(overrides)` with `scopes`. */
export function testTenant(overrides?: Overrides<TenantConfig>, scopes: Scope[] = []): TenantContext {
  return contextFor(testConfig(overrides), scopes);
}
