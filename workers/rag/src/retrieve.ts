/**
 * Hybrid retrieval: the query's BM25 matches (TenantIndex FTS5) and its nearest chunks by
 * embedding (the vector backend), fused by reciprocal rank (fusion.ts), optionally reranked
 * (rerank.ts), cut to topK. The query is embedded first; then one TenantIndex call (`rank`) reads
 * both rankings from the same state, so a concurrent re-upsert can never yield a mix of versions.
 *
 * - Candidate depth: each ranking contributes its top N = min(4 × topK, 50) chunks (Vectorize
 *   returns at most 20 with metadata), enough for fusion to surface a chunk that one ranking puts
 *   lower, cheap enough for a brute-force scan.
 * - Relevance floor: a vector candidate less similar than the embedding model's floor is not a
 *   match and takes no part (see SIMILARITY_FLOORS). So when the query shares no word with any
 *   chunk and nothing is semantically close, retrieval returns nothing — which is how `search`
 *   knows to say it found nothing instead of asking the model.
 * - topK: the tenant's `retrieval.defaultTopK` when absent; above `retrieval.maxTopK` (or not a
 *   positive integer) it is a "bad_request" naming the limit, never silently clamped.
 * - The query embedding uses the tenant's embeddings model and dimensions, the ones ingest used;
 *   if it fails the request fails ("ai_unavailable"); if the vector store fails, retrieval
 *   degrades to BM25 alone (logged).
 *
 * `mode` ("lexical" | "vector" | "hybrid") is an internal option for measuring retrieval quality;
 * the RPC surface always runs hybrid. Every mode reads only the tenant's own index.
 */
import type { ResilientAi } from "@crispy/ai";
import {
  RETRIEVAL_LIMITS,
  fail,
  ok,
  type Metadata,
  type RetrievedChunk,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { stubFor } from "@crispy/worker-kit";
import { log, logFieldsOf } from "@crispy/observability";
import { ragCallMeta } from "./ai";
import { filterProblem } from "./filter";
import { reciprocalRankFusion } from "./fusion";
import { rerankOrKeep, type Reranker } from "./rerank";
import type { IndexReader, VectorBackend, VectorProbe } from "./vectors/types";

export interface RetrieveRequest {
  query: string;
  topK?: number;
  filter?: Metadata;
}

/** A request after validation: topK resolved against the tenant's limits. */
export interface CheckedRequest {
  query: string;
  topK: number;
  filter: Metadata | undefined;
}

export type RetrievalMode = "hybrid" | "lexical" | "vector";

export interface RetrievalDeps {
  env: RagEnv;
  ai: ResilientAi;
  backend: VectorBackend;
  reranker: Reranker | null;
}

/**
 * Cosine similarity below which a vector candidate is not a match. `local/hash-embed-*` vectors
 * are hashed word and trigram features, so any two English texts share some (stop words at a
 * quarter weight, trigrams such as "ing$"): on the quality corpus (test/corpus) questions sharing
 * no content word with any passage still reach 0.12-0.19 with their best passage, while a question
 * and the passage that answers it score 0.30 in the median (most 0.22-0.6). 0.2 sits just above
 * that unrelated-text baseline; supporting passages below it share too little to be found by
 * vectors anyway, and BM25 still finds those that share a word. Neural embedding models (Workers
 * AI's bge) put even unrelated English text well above 0, so they get a higher floor — a
 * conservative starting point, to be calibrated against production queries.
 */
export const SIMILARITY_FLOORS = { local: 0.2, neural: 0.4 } as const;

export function similarityFloor(embeddingModel: string): number {
  return embeddingModel.startsWith("local/") ? SIMILARITY_FLOORS.local : SIMILARITY_FLOORS.neural;
}

/** How many candidates each ranking contributes for a given topK. */
export function candidateDepth(topK: number): number {
  return Math.min(Math.max(4 * topK, topK), RETRIEVAL_LIMITS.maxTopK);
}

/** Validates a retrieve/search request against the tenant's retrieval limits. */
export function checkRequest(tenant: TenantContext, request: RetrieveRequest): RpcResult<CheckedRequest> {
  const { defaultTopK, maxTopK } = tenant.config.retrieval;
  if (typeof request?.query !== "string" || request.query.trim() === "") {
    return fail("bad_request", "query must be a non-empty string");
  }
  if (request.query.length > RETRIEVAL_LIMITS.maxQueryChars) {
    return fail("bad_request", `query must be at most ${RETRIEVAL_LIMITS.maxQueryChars} characters`);
  }
  const topK = request.topK ?? defaultTopK;
  if (!Number.isInteger(topK) || topK < 1) return fail("bad_request", "topK must be a positive integer");
  if (topK > maxTopK) {
    return fail("bad_request", `topK must be at most ${maxTopK} for tenant "${tenant.tenantId}"`, {
      topK,
      maxTopK,
    });
  }
  const problem = filterProblem(request.filter);
  if (problem) return fail("bad_request", problem);
  const filter = request.filter && Object.keys(request.filter).length > 0 ? request.filter : undefined;
  return ok({ query: request.query, topK, filter });
}

/** The topK chunks for a checked request, best first; empty when nothing relevant exists. */
export async function retrieveChunks(
  deps: RetrievalDeps,
  tenant: TenantContext,
  request: CheckedRequest,
  mode: RetrievalMode = "hybrid",
): Promise<RpcResult<RetrievedChunk[]>> {
  const { query, topK, filter } = request;
  const depth = candidateDepth(topK);
  const index = stubFor(deps.env.TENANT_INDEX, tenant.tenantId);

  const probe = mode === "lexical" ? ok(null) : await vectorProbe(deps, tenant, index, query, depth, filter);
  if (!probe.ok) return probe;
  // One call for both rankings, so they come from the same version of every document.
  const rankings = await index.rank({ query: mode === "vector" ? null : query, probe: probe.value, k: depth, filter });
  const floor = similarityFloor(tenant.config.ai.embeddings.model);
  const vector = rankings.vector.filter((hit) => hit.score >= floor);

  const fused = reciprocalRankFusion([rankings.lexical, vector]);
  const ordered = await rerankOrKeep(deps.reranker, query, fused.slice(0, depth), ragCallMeta(tenant, "retrieve"));
  return ok(ordered.slice(0, topK));
}

/** The query embedded with the tenant's model, turned into the backend's probe (null if the store is down). */
async function vectorProbe(
  deps: RetrievalDeps,
  tenant: TenantContext,
  index: IndexReader,
  query: string,
  depth: number,
  filter: Metadata | undefined,
): Promise<RpcResult<VectorProbe | null>> {
  const { model, dimensions } = tenant.config.ai.embeddings;
  let vector: number[];
  try {
    const embedded = await deps.ai.embed({ model, texts: [query], dimensions }, ragCallMeta(tenant, "retrieve"));
    vector = embedded.vectors[0]!;
  } catch (error) {
    return fail(
      "ai_unavailable",
      `could not embed the query: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return ok(await deps.backend.probe(tenant.tenantId, index, vector, depth, filter));
  } catch (error) {
    // A vector store outage degrades retrieval to BM25 rather than failing it.
    log("warn", "rag.vector_query_failed", {
      ...logFieldsOf(tenant),
      backend: deps.backend.name,
      reason: error instanceof Error ? error.message : String(error),
    });
    return ok(null);
  }
}
