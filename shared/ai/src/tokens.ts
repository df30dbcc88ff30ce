/**
 * Approximate token counting, shared by every provider (usage when the upstream reports none, and
 * all of the local provider's usage) and by the chat worker (building context to a token budget).
 *
 * Rule: ceil(characters / 4), the usual average for English text under BPE vocabularies, plus a
 * fixed overhead of 4 tokens per chat message for its role and separators. A tool call costs
 * ceil((name + arguments) / 4) + 4, whether the model writes it (completion) or it is replayed in
 * the conversation (prompt); offered tools cost their specs' JSON. It is an estimate for budgets
 * and dev/test usage, not a billing figure; real providers' own counts win when present.
 *
 * Which to use: `estimatePromptTokens` counts message text only (unchanged, for text-only
 * budgets); `estimateRequestTokens(messages, tools)` counts what a model call really sends —
 * text, the tool calls in the conversation and the tool specs — and is what callers reserve
 * budget with and what the providers estimate prompt usage with.
 */
import type { ChatMessage, ToolCall, ToolSpec, Usage } from "./types";

const CHARS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_TOOL_CALL = 4;

/** Approximate token count of a text: ceil(characters / 4); 0 for an empty string. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Approximate prompt tokens of a conversation's text: every message's text plus 4 per message. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) total += estimateTokens(message.content) + TOKENS_PER_MESSAGE;
  return total;
}

/** Approximate tokens of tool calls: ceil((name + arguments) / 4) + 4 each. */
export function estimateToolCallTokens(calls: readonly ToolCall[] | undefined): number {
  let total = 0;
  for (const call of calls ?? []) total += estimateTokens(call.name + call.arguments) + TOKENS_PER_TOOL_CALL;
  return total;
}

/**
 * Approximate prompt tokens of a whole model call: `estimatePromptTokens(messages)`, plus the
 * tool calls in the conversation, plus the offered tool specs (ceil(JSON length / 4)).
 */
export function estimateRequestTokens(messages: readonly ChatMessage[], tools?: readonly ToolSpec[]): number {
  let total = estimatePromptTokens(messages);
  for (const message of messages) total += estimateToolCallTokens(message.toolCalls);
  if (tools && tools.length > 0) total += estimateTokens(JSON.stringify(tools));
  return total;
}

/** Usage estimated from the prompt's token count and the completion's text and tool calls. */
export function estimateUsage(promptTokens: number, completion: string, calls?: readonly ToolCall[]): Usage {
  const completionTokens = estimateTokens(completion) + estimateToolCallTokens(calls);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
