/** The TenantContext every RPC method takes first, as the gateway would build it, for tests. */
import type { Scope, TenantConfig, TenantContext } from "@crispy/contracts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** A tenant id no other test uses, so every test gets its own Durable Objects and keys. */
export function freshTenantId(): string {
  return `t-${crypto.randomUUID()}`;
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
