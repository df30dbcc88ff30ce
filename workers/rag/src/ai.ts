/**
 * The rag worker's door to the AI layer (@crispy/ai): the provider chosen by env (local by default,
 * offline), and the metadata every call carries (tenant, request, the tenant's AI Gateway, and
 * which operation asked — AI Gateway keeps five metadata keys in all).
 */
import { createAi, providerFromEnv, type CallMeta, type ResilientAi } from "@crispy/ai";
import type { TenantContext } from "@crispy/contracts";

/** The resilient AI client for this worker's configured provider. */
export function aiFromEnv(env: RagEnv): ResilientAi {
  return createAi(providerFromEnv(env));
}

/** Who a model call is for, carried into AI Gateway metadata and logs. */
export function callMeta(tenant: TenantContext, operation: "retrieve" | "search"): CallMeta {
  return {
    tenantId: tenant.tenantId,
    requestId: tenant.requestId,
    gatewayId: tenant.config.ai.gatewayId,
    metadata: { worker: "rag", operation },
  };
}
