/**
 * The chat worker's door to the AI layer (@crispy/ai): the provider chosen by env (local by
 * default, offline), the tenant's model list, and the metadata every call carries.
 *
 * Invariants:
 * - Models come only from `chooseModels(tenant.config.ai.chat, requested)`: a requested model
 *   outside the tenant's allow-list is a "forbidden" failure naming it and the allowed models.
 * - Every call's CallMeta names the tenant, the request and the tenant's AI Gateway, and at most
 *   two extra metadata keys (AI Gateway keeps five in all).
 */
import { AiError, chooseModels, createAi, providerFromEnv, type CallMeta, type ResilientAi } from "@crispy/ai";
import { fail, ok, type RpcResult, type TenantContext } from "@crispy/contracts";

/** The resilient AI client for this worker's configured provider. */
export function aiFromEnv(env: ChatEnv): ResilientAi {
  return createAi(providerFromEnv(env));
}

/** The models a turn tries, in order, or "forbidden" when `requested` is not allowed. */
export function modelsFor(tenant: TenantContext, requested?: string): RpcResult<string[]> {
  const policy = tenant.config.ai.chat;
  try {
    return ok(chooseModels(policy, requested));
  } catch (error) {
    if (error instanceof AiError && error.code === "model_not_allowed") {
      return fail(
        "forbidden",
        `model "${requested}" is not allowed for tenant "${tenant.tenantId}"; allowed: ${policy.allowed.join(", ")}`,
        { model: requested ?? null, allowed: policy.allowed },
      );
    }
    throw error;
  }
}

/** Who a model call is for, carried into AI Gateway metadata and logs. */
export function callMeta(tenant: TenantContext, turnId: string, sessionId: string | null): CallMeta {
  return {
    tenantId: tenant.tenantId,
    requestId: tenant.requestId,
    gatewayId: tenant.config.ai.gatewayId,
    metadata: sessionId ? { turnId, sessionId } : { turnId },
  };
}
