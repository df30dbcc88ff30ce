/**
 * The OpenAI `chat.completion` object returned by non-streaming `completions`, built from a
 * finished turn. (The streamed `chat.completion.chunk` form is written by sse.ts.) Field names
 * and nesting follow OpenAI's API so existing clients parse it unchanged: an answer that calls
 * client-side tools has `content: null` when it has no text, `tool_calls`, and
 * `finish_reason: "tool_calls"`.
 */
import type { FinishReason } from "@crispy/ai";
import type { ModelReply } from "./turn";

export interface OpenAiToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface OpenAiChatCompletion {
  id: string;
  object: "chat.completion";
  /** Unix seconds. */
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string | null; tool_calls?: OpenAiToolCall[]; refusal: null };
    finish_reason: FinishReason;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function completionOf(id: string, created: number, reply: ModelReply): OpenAiChatCompletion {
  const toolCalls = reply.toolCalls.map(
    (call): OpenAiToolCall => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments },
    }),
  );
  return {
    id,
    object: "chat.completion",
    created,
    model: reply.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: toolCalls.length > 0 && reply.text === "" ? null : reply.text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: reply.finishReason,
      },
    ],
    usage: {
      prompt_tokens: reply.usage.promptTokens,
      completion_tokens: reply.usage.completionTokens,
      total_tokens: reply.usage.totalTokens,
    },
  };
}
