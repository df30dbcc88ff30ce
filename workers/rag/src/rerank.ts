/**
 * The optional rerank step of hybrid retrieval: a cross-encoder reorders the fused candidates by
 * reading query and passage together. Behind an interface so retrieval does not depend on a model:
 * - production (AI_PROVIDER "workers-ai" with the AI binding) and `config.retrieval.rerank` on:
 *   Workers AI `@cf/baai/bge-reranker-base` through the tenant's AI Gateway;
 * - otherwise (local runs and tests, or rerank off): no reranker, the fused order stands.
 *
 * Invariant: reranking only reorders, never adds or drops a candidate, and a reranker failure
 * falls back to the fused order (it is an improvement, not a dependency) with a warning logged.
 */
import type { AiBinding, CallMeta } from "@crispy/ai";
import type { RetrievedChunk, TenantContext } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { configOf } from "./config";

export interface Reranker {
  readonly model: string;
  /** The same chunks, most relevant to `query` first. */
  rerank(query: string, chunks: RetrievedChunk[], meta: CallMeta): Promise<RetrievedChunk[]>;
}

export const RERANK_MODEL = "@cf/baai/bge-reranker-base";

/** A reranker calling Workers AI's bge-reranker-base (input `{ query, contexts, top_k }`). */
export function createWorkersAiReranker(binding: AiBinding): Reranker {
  return {
    model: RERANK_MODEL,
    async rerank(query, chunks, meta) {
      if (chunks.length < 2) return chunks;
      const output = (await binding.run(
        RERANK_MODEL,
        { query, contexts: chunks.map((chunk) => ({ text: chunk.text })), top_k: chunks.length },
        { gateway: { id: meta.gatewayId, metadata: { tenantId: meta.tenantId, requestId: meta.requestId } } },
      )) as { response?: { id?: number; score?: number }[] } | null;
      const order = (output?.response ?? [])
        .filter((entry) => Number.isInteger(entry.id) && entry.id! >= 0 && entry.id! < chunks.length)
        .sort((a, b) => (b.score ?? 0) - (a.score ?? 0))
        .map((entry) => entry.id!);
      const seen = new Set(order);
      const rest = chunks.map((_, index) => index).filter((index) => !seen.has(index));
      return [...new Set(order), ...rest].map((index) => chunks[index]!);
    },
  };
}

/** The tenant's reranker, or null when rerank is off or cannot run here (offline provider). */
export function rerankerFor(env: RagEnv, tenant: TenantContext): Reranker | null {
  if (!tenant.config.retrieval.rerank) return null;
  const binding = (env as RagEnv & { AI?: AiBinding }).AI;
  if (configOf(env).AI_PROVIDER !== "workers-ai" || !binding) return null;
  return createWorkersAiReranker(binding);
}

/** Reranks, or keeps the fused order when the reranker fails. */
export async function rerankOrKeep(
  reranker: Reranker | null,
  query: string,
  chunks: RetrievedChunk[],
  meta: CallMeta,
): Promise<RetrievedChunk[]> {
  if (!reranker) return chunks;
  try {
    return await reranker.rerank(query, chunks, meta);
  } catch (error) {
    log("warn", "rag.rerank_failed", {
      tenantId: meta.tenantId,
      requestId: meta.requestId,
      model: reranker.model,
      reason: error instanceof Error ? error.message : String(error),
    });
    return chunks;
  }
}
