/**
 * @crispy/ai — the AI layer's public surface. Callers build a provider (`providerFromEnv(env)`),
 * wrap it once (`createAi(provider)`), pick models with `chooseModels(tenant.ai.chat, requested)`,
 * and call `chatStream` / `chat` / `embed` / `speech` with the tenant's `CallMeta`. Nothing else is exported.
 */
export { AiError } from "./types";
export type {
  AiProvider,
  CallMeta,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatRole,
  ChatStreamEvent,
  ContextPassage,
  EmbedRequest,
  EmbedResult,
  FinishReason,
  ResponseFormat,
  SamplingOptions,
  SpeechFormat,
  SpeechRequest,
  SpeechResult,
  ToolCall,
  ToolChoice,
  ToolSpec,
  Usage,
} from "./types";
export { callMeta } from "./call-meta";
export { createAi } from "./resilient";
export type { ResilienceOptions, ResilientAi, ResilientChatRequest, ResilientStreamEvent } from "./resilient";
export { chooseModels } from "./choose-models";
export type { ModelPolicy } from "./choose-models";
export { AiEnvSchema, providerFromEnv } from "./provider-from-env";
export type { AiEnv } from "./provider-from-env";
export { createWorkersAiProvider } from "./providers/workers-ai";
export type { AiBinding, WorkersAiProviderOptions } from "./providers/workers-ai";
export { createOpenAiCompatibleProvider } from "./providers/openai-compatible";
export type { FetchLike, OpenAiCompatibleOptions } from "./providers/openai-compatible";
export { createLocalProvider } from "./providers/local";
export { withWireToolNames } from "./tool-names";
export type { LocalProviderOptions } from "./providers/local";
export { estimatePromptTokens, estimateRequestTokens, estimateTokens } from "./tokens";
export { withContext } from "./prompt";
