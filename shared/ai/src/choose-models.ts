/**
 * Which models a chat call tries, in order: the requested model (or the tenant's default), then
 * the tenant's fallbacks, without duplicates. A requested model outside the tenant's allow-list
 * is refused with `AiError("model_not_allowed")`; the policy itself is validated with the tenant
 * config (default and fallbacks are always in `allowed`).
 */
import { AiError } from "./types";

/** The tenant's chat model policy (tenant config `ai.chat`). */
export interface ModelPolicy {
  default: string;
  fallbacks: string[];
  allowed: string[];
}

export function chooseModels(policy: ModelPolicy, requested?: string): string[] {
  if (requested !== undefined && !policy.allowed.includes(requested)) {
    throw new AiError(
      "model_not_allowed",
      `model "${requested}" is not allowed for this tenant; allowed: ${policy.allowed.join(", ")}`,
    );
  }
  return [...new Set([requested ?? policy.default, ...policy.fallbacks])];
}
