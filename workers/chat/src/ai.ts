/**
 * The chat worker's door to the AI layer (@crispy/ai): the provider chosen by env (local by
 * default, offline), and the tenant's model list.
 *
 * Invariant: models come only from `chooseModels(tenant.config.ai.chat, requested)`: a requested
 * model outside the tenant's allow-list is a "forbidden" failure naming it and the allowed models.
 */
import { AiError, chooseModels, createAi, providerFromEnv, type ResilientAi } from "@crispy/ai";
import { fail, ok, type RpcResult, type TenantContext } from "@crispy/contracts";

/** The resilient AI client for this worker's configured provider. */
export function aiFromEnv(env: ChatEnv): ResilientAi {
  return createAi(providerFromEnv(env, "chat"));
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
