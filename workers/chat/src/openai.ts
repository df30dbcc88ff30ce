/**
 * The OpenAI `chat.completion` object returned by non-streaming `completions`, built from a
 * finished turn. (The streamed `chat.completion.chunk` form is written by sse.ts.) Field names
 * and nesting follow OpenAI's API so existing clients parse it unchanged.
 */
import type { ModelReply } from "./turn";

export interface OpenAiChatCompletion {
  id: string;
  object: "chat.completion";
  /** Unix seconds. */
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string };
    finish_reason: "stop" | "length";
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function completionOf(id: string, created: number, reply: ModelReply): OpenAiChatCompletion {
  return {
    id,
    object: "chat.completion",
    created,
    model: reply.model,
    choices: [{ index: 0, message: { role: "assistant", content: reply.text }, finish_reason: reply.finishReason }],
    usage: {
      prompt_tokens: reply.usage.promptTokens,
      completion_tokens: reply.usage.completionTokens,
      total_tokens: reply.usage.totalTokens,
    },
  };
}
