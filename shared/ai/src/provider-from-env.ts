/**
 * Picks the provider from a worker's env, parsed once like every other configuration
 * (`@crispy/worker-kit/config`): `AI_PROVIDER` unset or "local" → the offline local provider
 * (`LOCAL_TOKEN_DELAY_MS` sets its per-token delay, default 0); "workers-ai" → the `AI` binding
 * through AI Gateway; "openai-compatible" → `OPENAI_BASE_URL` (+ `OPENAI_API_KEY` when the
 * endpoint needs one); both remote ones get wire-safe tool names (tool-names.ts). An unknown name, a bad value or missing configuration throws a
 * ConfigError saying what to set: that is a deployment bug, not a runtime condition.
 */
import { ConfigError, envEnum, envInt, envOptionalString, envOptionalUrl, parseEnv } from "@crispy/worker-kit/config";
import * as z from "zod/mini";
import { createLocalProvider } from "./providers/local";
import { createOpenAiCompatibleProvider } from "./providers/openai-compatible";
import { type AiBinding, createWorkersAiProvider } from "./providers/workers-ai";
import { withWireToolNames } from "./tool-names";
import type { AiProvider } from "./types";

export interface AiEnv {
  AI_PROVIDER?: string;
  AI?: AiBinding;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  LOCAL_TOKEN_DELAY_MS?: string;
}

/** The AI layer's env vars; a worker's own config schema may extend it. */
export const AiEnvSchema = z.object({
  AI_PROVIDER: envEnum(["local", "workers-ai", "openai-compatible"], "local"),
  OPENAI_BASE_URL: envOptionalUrl("https://api.openai.com/v1"),
  OPENAI_API_KEY: envOptionalString(),
  LOCAL_TOKEN_DELAY_MS: envInt({ max: 60_000, fallback: 0 }),
});

/** The provider `env` configures; `worker` names the worker in configuration errors. */
export function providerFromEnv(env: AiEnv, worker = "ai"): AiProvider {
  const config = parseEnv(worker, AiEnvSchema, env);
  switch (config.AI_PROVIDER) {
    case "local":
      return createLocalProvider({ tokenDelayMs: config.LOCAL_TOKEN_DELAY_MS });
    case "workers-ai":
      if (!env.AI) {
        throw new ConfigError(
          `crispy-${worker} configuration: AI_PROVIDER is "workers-ai" but the AI binding is missing: add "ai": { "binding": "AI" } to wrangler.jsonc`,
        );
      }
      return withWireToolNames(createWorkersAiProvider({ binding: env.AI }));
    case "openai-compatible":
      if (!config.OPENAI_BASE_URL) {
        throw new ConfigError(
          `crispy-${worker} configuration: AI_PROVIDER is "openai-compatible" but OPENAI_BASE_URL is not set (e.g. https://api.openai.com/v1)`,
        );
      }
      return withWireToolNames(
        createOpenAiCompatibleProvider({
          baseUrl: config.OPENAI_BASE_URL,
          ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
        }),
      );
  }
}
