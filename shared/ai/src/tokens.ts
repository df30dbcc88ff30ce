/**
 * Approximate token counting, shared by every provider (usage when the upstream reports none, and
 * all of the local provider's usage) and by the chat worker (building context to a token budget).
 *
 * Rule: ceil(characters / 4), the usual average for English text under BPE vocabularies, plus a
 * fixed overhead of 4 tokens per chat message for its role and separators. It is an estimate for
 * budgets and dev/test usage, not a billing figure; real providers' own counts win when present.
 */
import type { ChatMessage, Usage } from "./types";

const CHARS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 4;

/** Approximate token count of a text: ceil(characters / 4); 0 for an empty string. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Approximate prompt tokens of a conversation: every message's text plus 4 per message. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) total += estimateTokens(message.content) + TOKENS_PER_MESSAGE;
  return total;
}

/** Usage estimated from the prompt's token count and the completion's text. */
export function estimateUsage(promptTokens: number, completion: string): Usage {
  const completionTokens = estimateTokens(completion);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
