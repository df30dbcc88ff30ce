/**
 * The AI layer's one interface. Every provider (workers-ai, openai-compatible, local) implements
 * `AiProvider`; callers go through `createAi()` (model choice within the tenant's allow-list,
 * fallback chain before the first token, retries with backoff, first-token timeout).
 */

export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A retrieved passage the model may use and cite as [n] (n = 1-based index in `context`). */
export interface ContextPassage {
  id: string;
  title?: string;
  text: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Who a call is for: carried into AI Gateway metadata and logs. */
export interface CallMeta {
  tenantId: string;
  requestId: string;
  /** The tenant's AI Gateway id (tenant config `ai.gatewayId`). */
  gatewayId: string;
  /** Extra AI Gateway metadata; with tenantId and requestId at most 5 keys are sent. */
  metadata?: Record<string, string | number | boolean>;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  context?: ContextPassage[];
  maxTokens?: number;
  temperature?: number;
  signal?: AbortSignal;
}

export type ChatStreamEvent =
  | { type: "token"; text: string }
  | { type: "usage"; usage: Usage }
  | { type: "done"; finishReason: "stop" | "length" | "error" };

export interface ChatResult {
  text: string;
  usage: Usage;
  /** The model that actually answered (may be a fallback). */
  model: string;
  finishReason: "stop" | "length";
}

export interface EmbedRequest {
  model: string;
  texts: string[];
  /** Requested dimensions (the local provider honours it; neural models have their own). */
  dimensions?: number;
  signal?: AbortSignal;
}

export interface EmbedResult {
  vectors: number[][];
  model: string;
  usage: { promptTokens: number };
}

/** Provider failures; `status` is the upstream HTTP status when there was one. */
export class AiError extends Error {
  constructor(
    readonly code: "model_not_allowed" | "ai_unavailable" | "timeout" | "bad_response" | "aborted",
    message: string,
    readonly status?: number,
    /** Whether retrying (or falling back) may help: 429, 5xx, network errors, timeouts. */
    readonly retryable = false,
  ) {
    super(message);
  }
}

export interface AiProvider {
  readonly name: "workers-ai" | "openai-compatible" | "local";
  chat(request: ChatRequest, meta: CallMeta): Promise<ChatResult>;
  /** Streams events; the iterator ends after `done`. Cancelling the iterator cancels upstream. */
  chatStream(request: ChatRequest, meta: CallMeta): AsyncIterable<ChatStreamEvent>;
  embed(request: EmbedRequest, meta: CallMeta): Promise<EmbedResult>;
}
