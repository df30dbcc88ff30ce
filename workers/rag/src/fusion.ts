/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): a chunk's fused score is
 * Σ 1 / (k + rank) over the rankings it appears in (rank 1-based, k = 60 as in the paper). It
 * needs no score calibration between BM25 and cosine similarity — only ranks — and a chunk found
 * by both rankings beats one found by a single ranking at a similar position.
 *
 * Ties (equal fused score) go to the chunk with the better best rank, then to the earlier ranking,
 * so the result is deterministic.
 */
import type { RetrievedChunk } from "@crispy/contracts";

export const RRF_K = 60;

export function chunkKey(chunk: Pick<RetrievedChunk, "docId" | "chunkId">): string {
  return `${chunk.docId}\u0000${chunk.chunkId}`;
}

/** The union of the rankings, best fused score first; each chunk's `score` becomes its RRF score. */
export function reciprocalRankFusion(rankings: readonly (readonly RetrievedChunk[])[], k = RRF_K): RetrievedChunk[] {
  const fused = new Map<string, { chunk: RetrievedChunk; score: number; bestRank: number; order: number }>();
  let order = 0;
  for (const ranking of rankings) {
    ranking.forEach((chunk, index) => {
      const rank = index + 1;
      const key = chunkKey(chunk);
      const entry = fused.get(key);
      if (entry) {
        entry.score += 1 / (k + rank);
        entry.bestRank = Math.min(entry.bestRank, rank);
      } else {
        fused.set(key, { chunk, score: 1 / (k + rank), bestRank: rank, order: order++ });
      }
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || a.order - b.order)
    .map(({ chunk, score }) => ({ ...chunk, score }));
}
