/**
 * Chooses which messages a model call sees, by a TOKEN budget (not a message count).
 *
 * Invariants:
 * - System messages and the last message (the one being answered) are always kept, even when they
 *   alone exceed the budget: the budget trims history, never the question.
 * - Other messages are kept newest first while they fit; the first one that does not fit ends the
 *   selection, so the kept history is a contiguous recent suffix (no gaps in the conversation).
 * - The kept history does not start with an assistant or tool message whose user message was cut
 *   off (chat templates expect a user message first).
 * - The original order is preserved.
 * - A message costs its content tokens plus MESSAGE_OVERHEAD_TOKENS (role and separators), the same
 *   rule the AI layer uses for estimated usage, so `promptTokens` matches what the model is charged.
 */
import type { ChatMessage } from "@crispy/ai";

/** Tokens of a model's context spent on a turn's prompt, system prompt included. */
export const CONTEXT_TOKEN_BUDGET = 6_000;

/** Tokens a chat template adds per message for its role and separators. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

export interface CountedMessage extends ChatMessage {
  /** Tokens of `content` (without the per-message overhead). */
  tokens: number;
}

function cost(message: CountedMessage): number {
  return message.tokens + MESSAGE_OVERHEAD_TOKENS;
}

export interface ContextWindow {
  messages: ChatMessage[];
  /** Estimated prompt tokens of `messages`. */
  promptTokens: number;
  /** How many history messages were left out. */
  dropped: number;
}

export function fitContext(messages: readonly CountedMessage[], budget: number = CONTEXT_TOKEN_BUDGET): ContextWindow {
  const last = messages.length - 1;
  const keep = new Array<boolean>(messages.length).fill(false);
  let used = 0;
  messages.forEach((message, index) => {
    if (message.role === "system" || index === last) {
      keep[index] = true;
      used += cost(message);
    }
  });

  let oldestKept = last;
  for (let index = last - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role === "system") continue;
    if (used + cost(message) > budget) break;
    keep[index] = true;
    used += cost(message);
    oldestKept = index;
  }
  // Drop replies whose question was cut off.
  for (let index = oldestKept; index < last; index++) {
    const message = messages[index]!;
    if (message.role === "system") continue;
    if (message.role === "user" || !keep[index]) break;
    keep[index] = false;
    used -= cost(message);
  }

  const kept = messages.filter((_, index) => keep[index]);
  const droppedCount = messages.filter((m, index) => !keep[index] && m.role !== "system").length;
  return {
    messages: kept.map(({ role, content }) => ({ role, content })),
    promptTokens: used,
    dropped: droppedCount,
  };
}
