/**
 * Answers with checked citations. The retrieved chunks become the model's numbered `context`
 * (sources [1]..[n], in retrieval order); the chat model (the tenant's default, then its
 * fallbacks) answers citing them inline; the answer is then checked (citations.ts): citations of
 * numbers that were not retrieved are removed, the rest renumbered in order of first citation, and
 * the sources are exactly the cited chunks in that order.
 *
 * Invariants:
 * - When retrieval found nothing, no model is called: the answer is NOT_FOUND_ANSWER with
 *   `found: false`, no sources and model "none".
 * - Every `[n]` in a returned answer names `sources[n - 1]`, a chunk that was retrieved.
 * - The model call is noted in `usage` (its tokens, or 0 when it failed); the caller flushes it.
 */
import { chooseModels, type ContextPassage, type ResilientAi, type ResilientChatRequest } from "@crispy/ai";
import {
  sourceOf,
  fail,
  type ModelCallLog,
  ok,
  type RetrievedChunk,
  type RpcResult,
  type SearchAnswer,
  type SearchSource,
  type TenantContext,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { ragCallMeta } from "./ai";
import { checkCitations } from "./citations";

export const NOT_FOUND_ANSWER = "I couldn't find anything about that in your documents.";
/** The `model` of an answer no model wrote (nothing found). */
export const NO_MODEL = "none";
export const MAX_ANSWER_TOKENS = 512;

const SYSTEM_PROMPT =
  "You answer questions about the user's own documents. Use only the numbered sources, cite every " +
  "source you use inline as [n], and never cite a number that is not listed. If the sources do not " +
  "answer the question, say that they do not.";

/** The sources of a checked answer: the cited chunks (original numbers) renumbered 1, 2, … */
export function citedSources(chunks: readonly RetrievedChunk[], cited: readonly number[]): SearchSource[] {
  return cited.map((original, index) => sourceOf(chunks[original - 1]!, index + 1));
}

export function notFoundAnswer(): SearchAnswer {
  return { answer: NOT_FOUND_ANSWER, sources: [], found: false, cached: false, model: NO_MODEL };
}

/** The chat request answering `query` from `chunks` (numbered in order). */
export function answerRequest(
  tenant: TenantContext,
  query: string,
  chunks: readonly RetrievedChunk[],
): ResilientChatRequest {
  const context: ContextPassage[] = chunks.map((chunk) => ({
    id: chunk.chunkId,
    title: chunk.title,
    text: chunk.text,
  }));
  return {
    models: chooseModels(tenant.config.ai.chat),
    messages: [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: query },
    ],
    context,
    maxTokens: MAX_ANSWER_TOKENS,
  };
}

/** The whole answer for retrieved chunks (not-found without a model call when there are none). */
export async function composeAnswer(
  ai: ResilientAi,
  tenant: TenantContext,
  query: string,
  chunks: readonly RetrievedChunk[],
  usage?: ModelCallLog,
): Promise<RpcResult<SearchAnswer>> {
  if (chunks.length === 0) return ok(notFoundAnswer());
  const request = answerRequest(tenant, query, chunks);
  const started = Date.now();
  const note = (model: string, promptTokens: number, completionTokens: number, outcome: "ok" | "error") =>
    usage?.add({
      ts: started,
      model,
      promptTokens,
      completionTokens,
      latencyMs: Math.max(0, Date.now() - started),
      ttftMs: null,
      cacheHit: false,
      outcome,
    });
  try {
    const result = await ai.chat(request, ragCallMeta(tenant, "search"));
    note(result.model, result.usage.promptTokens, result.usage.completionTokens, "ok");
    const checked = checkCitations(result.text, chunks.length);
    return ok({
      answer: checked.text,
      sources: citedSources(chunks, checked.cited),
      found: true,
      cached: false,
      model: result.model,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    note(request.models[0] ?? NO_MODEL, 0, 0, "error");
    log("warn", "rag.answer_failed", { tenantId: tenant.tenantId, requestId: tenant.requestId, reason });
    return fail("ai_unavailable", reason);
  }
}
