/**
 * The rag worker's door to the AI layer (@crispy/ai): the provider chosen by env (local by default,
 * offline), and the metadata every call carries (tenant, request, the tenant's AI Gateway, and
 * which operation asked — AI Gateway keeps five metadata keys in all).
 */
import { callMeta, createAi, providerFromEnv, type CallMeta, type ResilientAi } from "@crispy/ai";
import type { TenantContext } from "@crispy/contracts";

/** The resilient AI client for this worker's configured provider. */
export function aiFromEnv(env: RagEnv): ResilientAi {
  return createAi(providerFromEnv(env, "rag"));
}

/** Who a model call is for: the tenant and request, and which rag operation asked. */
export function ragCallMeta(tenant: TenantContext, operation: "retrieve" | "search"): CallMeta {
  return callMeta(tenant, { worker: "rag", operation });
}
