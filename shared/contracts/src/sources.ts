/**
 * Sources as clients see them (search answers, RAG chat): one shape and one snippet rule for both.
 */
import type { RetrievedChunk, SearchSource } from "./retrieval";

export const SNIPPET_CHARS = 200;

/** About SNIPPET_CHARS characters of a chunk, whitespace collapsed, cut at a word boundary. */
export function snippetOf(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= SNIPPET_CHARS) return flat;
  const cut = flat.slice(0, SNIPPET_CHARS - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > SNIPPET_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function sourceOf(chunk: RetrievedChunk, n: number): SearchSource {
  return {
    n,
    docId: chunk.docId,
    chunkId: chunk.chunkId,
    title: chunk.title,
    url: chunk.url,
    snippet: snippetOf(chunk.text),
    score: chunk.score,
  };
}
