/**
 * Who a model call is for: the tenant, the request and the tenant's AI Gateway, plus at most three
 * keys of the caller's own (AI Gateway keeps five metadata entries in all). One helper for every
 * worker, so every call is attributed the same way.
 */
import type { TenantContext } from "@crispy/contracts";
import type { CallMeta } from "./types";

export function callMeta(
  tenant: Pick<TenantContext, "tenantId" | "requestId" | "config">,
  metadata: Record<string, string | number | boolean> = {},
): CallMeta {
  return { tenantId: tenant.tenantId, requestId: tenant.requestId, gatewayId: tenant.config.ai.gatewayId, metadata };
}
