/**
 * Contracts of chat: the HTTP bodies the gateway validates and the chat worker's RPC surface.
 * Limits here are the documented public limits.
 */
import { z } from "zod";
import { CHAT_LIMITS, SESSION_ID_PATTERN } from "./chat-limits";
import type { SearchSource } from "./retrieval";

export const SessionIdSchema = z.string().regex(SESSION_ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -");
const ModelSchema = z.string().min(1).max(128);

export const ChatBodySchema = z.strictObject({
  sessionId: SessionIdSchema.optional(),
  message: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(CHAT_LIMITS.maxMessageChars, `must be at most ${CHAT_LIMITS.maxMessageChars} characters`),
  model: ModelSchema.optional(),
  stream: z.boolean().default(true),
  system: z.string().max(CHAT_LIMITS.maxSystemChars).optional(),
  /** Retrieve from the tenant's documents first (defaults to the tenant's features.ragByDefault). */
  rag: z.boolean().optional(),
});
export type ChatBody = z.output<typeof ChatBodySchema>;

export const OpenAiChatBodySchema = z.object({
  model: ModelSchema.optional(),
  messages: z
    .array(
      z.object({
        role: z.enum(["system", "user", "assistant", "tool"]),
        content: z.string().max(CHAT_LIMITS.maxMessageChars),
      }),
    )
    .min(1)
    .max(CHAT_LIMITS.maxMessages),
  stream: z.boolean().default(false),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
  max_tokens: z.number().int().min(1).max(8192).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** Extension: also record the exchange in this session. */
  session_id: SessionIdSchema.optional(),
});
export type OpenAiChatBody = z.output<typeof OpenAiChatBodySchema>;

export const PageQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(CHAT_LIMITS.maxPageSize).default(CHAT_LIMITS.defaultPageSize),
});
export type PageQuery = z.output<typeof PageQuerySchema>;

/** What the chat worker's `stream` and `complete` take (validated at the gateway). */
export interface ChatTurnInput {
  sessionId?: string;
  message: string;
  model?: string;
  system?: string;
  rag?: boolean;
}

/** SSE dialects the chat worker can emit: the platform's events, or OpenAI chunks. */
export type StreamFormat = "events" | "openai";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatTurnReply {
  sessionId: string;
  turnId: string;
  model: string;
  reply: string;
  usage: TokenUsage;
  /** For a RAG turn: the retrieved sources the reply's `[n]` citations refer to. */
  sources?: SearchSource[];
}

export interface StartedStream {
  sessionId: string;
  /** SSE bytes, ready to pipe to the client. Cancelling it cancels the model call. */
  body: ReadableStream<Uint8Array>;
}

export interface SessionSummary {
  id: string;
  title: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface MessageRecord {
  seq: number;
  turnId: string;
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  tokens: number;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
