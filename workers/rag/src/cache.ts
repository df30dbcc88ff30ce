/**
 * The search-answer cache (KV `SEARCH_CACHE`).
 *
 * Key: `${tenantId}:search:v${indexVersion}:${sha256}` where the hash covers the normalised query
 * (NFKC, lowercased, whitespace collapsed) and every option that can change the answer: topK (as
 * resolved, so "default" and its value share a key), the filter with sorted keys, the chat models
 * tried, the embeddings model and dimensions, and whether rerank is on. The tenant id comes first
 * (house rule: every storage key carries it), and the index version makes any upsert or delete
 * invalidate the tenant's cached answers without a scan: old keys are simply never read again and
 * expire after the TTL.
 *
 * Values are SearchAnswers stored with `cached: false`; a hit is returned with `cached: true`.
 */
import type { Metadata, SearchAnswer } from "@crispy/contracts";
import { sha256Hex } from "@crispy/worker-kit/util";
import { canonicalFilter } from "./filter";

/** How long an answer is kept (KV's minimum is 60 s). */
export const CACHE_TTL_SECONDS = 3600;

export interface SearchCacheParts {
  tenantId: string;
  indexVersion: number;
  query: string;
  topK: number;
  filter: Metadata | undefined;
  chatModels: readonly string[];
  embeddingModel: string;
  dimensions: number;
  rerank: boolean;
}

/** The query as the cache sees it: case, Unicode form and spacing do not matter. */
export function normaliseQuery(query: string): string {
  return query.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

export async function searchCacheKey(parts: SearchCacheParts): Promise<string> {
  const options = JSON.stringify([
    normaliseQuery(parts.query),
    parts.topK,
    canonicalFilter(parts.filter),
    [...parts.chatModels],
    parts.embeddingModel,
    parts.dimensions,
    parts.rerank,
  ]);
  return `${parts.tenantId}:search:v${parts.indexVersion}:${await sha256Hex(options)}`;
}

/** The cached answer (marked `cached: true`), or null on a miss or an unreadable entry. */
export async function readCachedAnswer(kv: KVNamespace, key: string): Promise<SearchAnswer | null> {
  const value = await kv.get<SearchAnswer>(key, "json").catch(() => null);
  if (!value || typeof value.answer !== "string" || !Array.isArray(value.sources)) return null;
  return { ...value, cached: true };
}

export async function writeCachedAnswer(kv: KVNamespace, key: string, answer: SearchAnswer): Promise<void> {
  await kv.put(key, JSON.stringify({ ...answer, cached: false }), { expirationTtl: CACHE_TTL_SECONDS });
}
