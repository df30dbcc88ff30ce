/**
 * Picks the provider from a worker's env. `AI_PROVIDER` unset or "local" → the offline local
 * provider (`LOCAL_TOKEN_DELAY_MS` sets its per-token delay, default 0); "workers-ai" → the `AI`
 * binding through AI Gateway; "openai-compatible" → `OPENAI_BASE_URL` (+ `OPENAI_API_KEY` when the
 * endpoint needs one). Unknown names and missing configuration throw at once with what to set:
 * that is a deployment bug, not a runtime condition.
 */
import { createLocalProvider } from "./providers/local";
import { createOpenAiCompatibleProvider } from "./providers/openai-compatible";
import { createWorkersAiProvider, type AiBinding } from "./providers/workers-ai";
import type { AiProvider } from "./types";

export interface AiEnv {
  AI_PROVIDER?: string;
  AI?: AiBinding;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  LOCAL_TOKEN_DELAY_MS?: string;
}

export function providerFromEnv(env: AiEnv): AiProvider {
  const name = env.AI_PROVIDER?.trim() || "local";
  switch (name) {
    case "local":
      return createLocalProvider({ tokenDelayMs: tokenDelay(env.LOCAL_TOKEN_DELAY_MS) });
    case "workers-ai":
      if (!env.AI) {
        throw new Error(
          'AI_PROVIDER is "workers-ai" but the AI binding is missing: add "ai": { "binding": "AI" } to wrangler.jsonc',
        );
      }
      return createWorkersAiProvider({ binding: env.AI });
    case "openai-compatible":
      if (!env.OPENAI_BASE_URL) {
        throw new Error(
          'AI_PROVIDER is "openai-compatible" but OPENAI_BASE_URL is not set (e.g. https://api.openai.com/v1)',
        );
      }
      return createOpenAiCompatibleProvider({
        baseUrl: env.OPENAI_BASE_URL,
        ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
      });
    default:
      throw new Error(`unknown AI_PROVIDER "${name}"; expected "local", "workers-ai" or "openai-compatible"`);
  }
}

function tokenDelay(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 0;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) {
    throw new Error(`LOCAL_TOKEN_DELAY_MS must be a whole number of milliseconds ≥ 0, not "${value}"`);
  }
  return ms;
}
