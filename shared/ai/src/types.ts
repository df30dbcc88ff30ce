/**
 * The AI layer's one interface. Every provider (workers-ai, openai-compatible, local) implements
 * `AiProvider`; callers go through `createAi()` (model choice within the tenant's allow-list,
 * fallback chain before the first token, retries with backoff, first-token timeout).
 */

export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ChatMessage {
  role: ChatRole;
  /** Text ("" for an assistant message that only calls tools). */
  content: string;
  /** An assistant message's tool calls. */
  toolCalls?: ToolCall[];
  /** A `tool` message: which call it answers. */
  toolCallId?: string;
}

/** A model's call of a tool: `arguments` is JSON text, exactly as the model wrote it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A tool offered to the model (OpenAI's `function` tool). */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments (an object schema). */
  parameters: Record<string, unknown>;
  /** OpenAI's `strict` flag, passed through where the provider takes it. */
  strict?: boolean;
}

/** "auto": the model decides; "none": no tool; "required": at least one; `{ name }`: that one. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

/** Sampling options passed to providers that take them (OpenAI's names, camelCased). */
export interface SamplingOptions {
  topP?: number;
  seed?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
}

export type FinishReason = "stop" | "length" | "tool_calls";

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
  /** Tools the model may call; with none (or toolChoice "none") it only writes text. */
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  /** false: at most one tool call per answer. Default true. */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** Up to 4 sequences; the answer ends before the first one (which is not included). */
  stop?: string[];
  sampling?: SamplingOptions;
  signal?: AbortSignal;
}

/**
 * `tool_call` events carry whole calls (id, name, complete arguments), after the answer's text
 * and before `usage`; a `done` after tool calls has finishReason "tool_calls".
 */
export type ChatStreamEvent =
  | { type: "token"; text: string }
  | { type: "tool_call"; call: ToolCall }
  | { type: "usage"; usage: Usage }
  | { type: "done"; finishReason: FinishReason | "error" };

export interface ChatResult {
  text: string;
  /** The tool calls the model made (finishReason "tool_calls"); absent or empty otherwise. */
  toolCalls?: ToolCall[];
  usage: Usage;
  /** The model that actually answered (may be a fallback). */
  model: string;
  finishReason: FinishReason;
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

/** OpenAI's speech formats (`response_format` of `POST /v1/audio/speech`). */
export type SpeechFormat = "mp3" | "opus" | "aac" | "flac" | "wav" | "pcm";

export interface SpeechRequest {
  model: string;
  /** The text to speak (the caller bounds its length). */
  input: string;
  /** A voice of the model; which ones exist is the provider's to say (else "unsupported"). */
  voice: string;
  /** Absent: the model's own format (local: wav; Workers AI: mp3; OpenAI-compatible: the upstream's default). */
  format?: SpeechFormat;
  /** 0.25–4; absent means 1. A model without speed control refuses anything but 1. */
  speed?: number;
  /** Voice instructions, for models that take them (else "unsupported"). */
  instructions?: string;
  signal?: AbortSignal;
}

export interface SpeechResult {
  /** The encoded audio, streamed (or whole, for providers that answer in one piece). */
  audio: ReadableStream<Uint8Array> | Uint8Array;
  /** e.g. "audio/wav", "audio/pcm", "audio/mpeg". */
  contentType: string;
  model: string;
  /** Characters of the input spoken (what speech is budgeted by). */
  characters: number;
}

/** Provider failures; `status` is the upstream HTTP status when there was one. */
export class AiError extends Error {
  constructor(
    /** "unsupported": the request asks for something this model/provider cannot do (a 400, naming `field`). */
    readonly code: "model_not_allowed" | "ai_unavailable" | "timeout" | "bad_response" | "aborted" | "unsupported",
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
  /** Resolves once the audio starts (before it is all produced); cancelling `audio` stops it. */
  speech(request: SpeechRequest, meta: CallMeta): Promise<SpeechResult>;
}
