/**
 * The local chat model's answer: a deterministic function of the last user message and the
 * context passages, so tests and `pnpm dev` get stable, checkable output with no network.
 *
 * - With context: the (at most 3) passage sentences sharing the most content words with the
 *   question, best first, each cited inline as [n] (n = 1-based index into `context`). Score =
 *   shared distinct content words / √(sentence's distinct content words); ties go to the earlier
 *   passage and sentence. No overlap at all → an honest "no source shares a word with …".
 * - Without context: `You said: "…".` plus a label saying this is an offline model that does not reason.
 */
import type { ChatMessage, ContextPassage } from "../types";
import { contentWords, sentences } from "./lexical";

const MAX_CITED_SENTENCES = 3;
const MAX_ECHO_CHARS = 200;

export function composeAnswer(
  model: string,
  messages: readonly ChatMessage[],
  context: readonly ContextPassage[] | undefined,
): string {
  const question = lastUserMessage(messages);
  const label = `(${model} is an offline test model; it does not reason.)`;
  if (!context || context.length === 0) {
    return question ? `You said: "${excerpt(question)}". ${label}` : `You sent an empty message. ${label}`;
  }
  const cited = bestSentences(question, context);
  if (cited.length === 0) {
    return `None of the ${context.length} provided sources shares a word with "${excerpt(question)}". ${label}`;
  }
  const parts = cited.map(({ sentence, passage }) => `${sentence.replace(/[\s.!?;:,]+$/u, "")} [${passage + 1}].`);
  return `From the provided sources: ${parts.join(" ")}`;
}

interface Candidate {
  sentence: string;
  passage: number;
  position: number;
  score: number;
}

function bestSentences(question: string, context: readonly ContextPassage[]): Candidate[] {
  const asked = new Set(contentWords(question));
  if (asked.size === 0) return [];
  const candidates: Candidate[] = [];
  context.forEach((passage, passageIndex) => {
    sentences(passage.text).forEach((sentence, position) => {
      const own = new Set(contentWords(sentence));
      let shared = 0;
      for (const word of own) if (asked.has(word)) shared += 1;
      if (shared > 0) {
        candidates.push({ sentence, passage: passageIndex, position, score: shared / Math.sqrt(own.size) });
      }
    });
  });
  candidates.sort((a, b) => b.score - a.score || a.passage - b.passage || a.position - b.position);
  return candidates.slice(0, MAX_CITED_SENTENCES);
}

function lastUserMessage(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === "user") return message.content.replace(/\s+/g, " ").trim();
  }
  return "";
}

function excerpt(text: string): string {
  return text.length <= MAX_ECHO_CHARS ? text : `${text.slice(0, MAX_ECHO_CHARS - 1).trimEnd()}…`;
}
