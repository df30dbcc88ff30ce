/** Per-request state the gateway builds up as a request passes its middleware. */
import type { RateLimitDecision, TenantConfig, TenantContext } from "@crispy/contracts";
import { traceparentOf, type TraceContext } from "@crispy/observability";
import type { KeyRecord } from "./auth/api-keys";

export interface RequestState {
  requestId: string;
  trace: TraceContext;
  startedAt: number;
  /** The `Origin` of a cross-origin (browser) request, else null. */
  origin: string | null;
  /** From `cf-connecting-ip`, set by Cloudflare's edge and not by the client. */
  clientIp: string;
  /** The tenant the request resolved to; authenticated only once `key` is set too. */
  tenant?: TenantConfig;
  key?: KeyRecord;
  rateLimit?: RateLimitDecision;
}

export type AuthenticatedState = RequestState & { tenant: TenantConfig; key: KeyRecord };

/** The context handed to internal workers: the tenant this request proved, never one it claimed. */
export function tenantContext(state: AuthenticatedState): TenantContext {
  return {
    tenantId: state.tenant.id,
    requestId: state.requestId,
    traceparent: traceparentOf(state.trace),
    keyId: state.key.id,
    scopes: state.key.scopes,
    ...(state.key.tools ? { toolAllowList: state.key.tools } : {}),
    ...(state.key.limits ? { keyLimits: state.key.limits } : {}),
    config: state.tenant,
  };
}
