/**
 * Chat's public limits, in a module without zod so a worker can import them without bundling the
 * HTTP schemas (a value import from chat.ts pulls all its zod schemas in).
 */
export const CHAT_LIMITS = {
  /** Characters of one user message. */
  maxMessageChars: 32_000,
  /** Characters of a per-request system prompt. */
  maxSystemChars: 4_000,
  /** Completion tokens of a turn (an OpenAI-style request's `max_tokens` replaces it). */
  defaultCompletionTokens: 1024,
  /** Messages in one OpenAI-style request. */
  maxMessages: 256,
  /** Tools in one OpenAI-style request, and tool calls in one assistant message. */
  maxTools: 128,
  maxToolCalls: 64,
  /** Page size for session lists and history. */
  maxPageSize: 100,
  defaultPageSize: 20,
} as const;

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
