/**
 * The context the gateway resolves for every request and passes first to every RPC method.
 * Internal workers trust it because only the gateway can call them (no public routes).
 */
import type { KeyLimits } from "./api";
import type { TenantConfig } from "./tenant-config";

export const SCOPES = ["chat", "search", "ingest", "tools", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface TenantContext {
  tenantId: string;
  requestId: string;
  /** W3C traceparent for the hop into the callee. */
  traceparent: string;
  /** The authenticated API key, when the route is authenticated. */
  keyId?: string;
  scopes: Scope[];
  /** The key's tool allow-list: only these tools may be listed or called; absent means any. */
  toolAllowList?: string[];
  /** The key's own limits (request rate, token rate, budgets); absent: the tenant's only. */
  keyLimits?: KeyLimits;
  config: TenantConfig;
}
