/**
 * How retrieved passages reach a remote model: numbered [1]..[n] in the system prompt with an
 * instruction to cite them inline as [n], so the chat worker can check every citation against the
 * `context` it passed. The first system message is extended rather than a second one added,
 * because several open models ignore or mishandle more than one system message.
 */
import type { ChatMessage, ContextPassage } from "./types";

const INSTRUCTION =
  "Answer from the numbered sources below when they are relevant, and cite each source you use " +
  "inline as [n]. If the sources do not contain the answer, say so.";

export function withContext(
  messages: readonly ChatMessage[],
  context: readonly ContextPassage[] | undefined,
): ChatMessage[] {
  if (!context || context.length === 0) return [...messages];
  const sources = context.map(
    (passage, index) => `[${index + 1}] ${passage.title ? `${passage.title}: ` : ""}${passage.text}`,
  );
  const block = `${INSTRUCTION}\n\nSources:\n${sources.join("\n")}`;
  const [first, ...rest] = messages;
  if (first?.role === "system") {
    return [{ role: "system", content: `${first.content}\n\n${block}` }, ...rest];
  }
  return [{ role: "system", content: block }, ...messages];
}
