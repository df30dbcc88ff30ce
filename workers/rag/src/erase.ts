/**
 * Tenant erasure for the rag worker (docs/erasure.md), in this order, one bounded phase per call
 * (`done: false` while a phase has more to do):
 *
 * 1. Vectorize (production backend only): for a batch of the tenant's documents, the vectors of
 *    the version the TenantIndex holds — their ids are derived (`vectorId`), so `deleteByIds` finds
 *    them without a listing — then the document itself. At most MAX_VECTOR_IDS_PER_CALL ids a call.
 * 2. The TenantIndex: its whole storage (documents, chunks, FTS, embeddings, index version).
 * 3. Vectorize again: a sweep of the tenant's namespace (a query returns whatever vectors are left
 *    there, e.g. an older version's whose removal failed, and those ids are deleted). Vectorize
 *    applies deletes asynchronously, so the sweep reports what it deleted and the job's
 *    verification (`mode: "count"`, which queries the namespace again) decides whether it is empty.
 * 4. The search cache: every KV key under `${tenantId}:` (KV lists by prefix; one delete per key).
 *    Cached answers are keyed by the index version, which restarts at 0 once the index is erased,
 *    so they must go too or a tenant id used again could be served an old answer.
 *
 * Idempotent: every phase deletes what it finds; a call cut short is simply repeated.
 */
import {
  type EraseReport,
  type EraseRequest,
  RETRIEVAL_LIMITS,
  type StoreCounts,
  type TenantContext,
  eraseCallOf,
  ok,
  type RpcResult,
} from "@crispy/contracts";
import { stubFor } from "@crispy/worker-kit";
import { vectorBackendFor } from "./vectors/backend";
import { VECTORIZE_LIMITS, type VectorizeLike } from "./vectors/vectorize";

/** Vector ids one call deletes by document at most (each 1,000 is one `deleteByIds` call). */
export const MAX_VECTOR_IDS_PER_CALL = 20_000;
/** Matches one sweep query returns (Vectorize's topK limit without values or metadata). */
const SWEEP_TOP_K = 100;
/** Sweep queries per call. */
const SWEEP_QUERIES = 5;
/** Keys one KV list call returns at most. */
const KV_PAGE = 1_000;

/** Every search-cache key of the tenant starts with this (tenant ids contain no ":"). */
export function cachePrefix(tenantId: string): string {
  return `${tenantId}:`;
}

/** What the TenantIndex holds, counted in SQL (the DO side of erasure). */
export function indexCounts(sql: SqlStorage): { documents: number; chunks: number } {
  const count = (table: string) => sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
  return { documents: count("documents"), chunks: count("chunks") };
}

/** Erases one phase's batch of the tenant's index, vectors and cache (or, with `mode: "count"`, counts what is left). */
export async function eraseTenant(
  env: RagEnv,
  tenant: TenantContext,
  request: EraseRequest | undefined,
): Promise<RpcResult<EraseReport>> {
  const call = eraseCallOf(tenant, request);
  if (!call.ok) return call;
  const { mode, batchSize } = call.value;
  const index = stubFor(env.TENANT_INDEX, tenant.tenantId);
  const vectorize = vectorBackendFor(env).inIndex ? null : (env as RagEnv & { VECTORIZE: VectorizeLike }).VECTORIZE;

  if (mode === "count") {
    const counts: StoreCounts = {
      ...(await index.erasureCounts()),
      ...(vectorize ? { vectors: (await sweepQuery(vectorize, tenant)).length } : {}),
      cacheEntries: await countCache(env.SEARCH_CACHE, cachePrefix(tenant.tenantId)),
    };
    return ok({ done: Object.values(counts).every((n) => n === 0), counts });
  }

  const counts: StoreCounts = { documents: 0, chunks: 0, ...(vectorize ? { vectors: 0 } : {}), cacheEntries: 0 };
  if (vectorize) {
    const more = await eraseDocumentVectors(env, tenant, batchSize, counts);
    if (more) return ok({ done: false, counts });
  }
  const erased = await index.erase();
  counts.documents! += erased.documents;
  counts.chunks! += erased.chunks;
  if (vectorize) counts.vectors! += await sweep(vectorize, tenant);

  const page = await env.SEARCH_CACHE.list({
    prefix: cachePrefix(tenant.tenantId),
    limit: Math.min(batchSize, KV_PAGE),
  });
  await Promise.all(page.keys.map((key) => env.SEARCH_CACHE.delete(key.name)));
  counts.cacheEntries = page.keys.length;
  return ok({ done: page.list_complete, counts });
}

/**
 * Deletes the current version's vectors of a batch of documents, then the documents (so a call
 * cut short between the two finds them again); true when documents are left for the next call.
 */
async function eraseDocumentVectors(
  env: RagEnv,
  tenant: TenantContext,
  batchSize: number,
  counts: StoreCounts,
): Promise<boolean> {
  const index = stubFor(env.TENANT_INDEX, tenant.tenantId);
  const backend = vectorBackendFor(env);
  const limit = Math.min(batchSize, RETRIEVAL_LIMITS.maxPageSize);
  const listed = await index.list({ limit });
  if (!listed.ok) throw new Error(`listing the index for erasure failed: ${listed.error.message}`);
  const documents = listed.value.items;
  let ids = 0;
  for (const doc of documents) {
    if (ids > 0 && ids + doc.chunkCount > MAX_VECTOR_IDS_PER_CALL) return true;
    await backend.remove(tenant.tenantId, doc.id, { version: doc.version, chunkCount: doc.chunkCount }, null);
    await index.delete(doc.id);
    ids += doc.chunkCount;
    counts.documents! += 1;
    counts.chunks! += doc.chunkCount;
    counts.vectors! += doc.chunkCount;
  }
  return documents.length === limit;
}

/** Ids the tenant's namespace still returns for a query (any vector will do: a query returns the nearest, however far). */
async function sweepQuery(vectorize: VectorizeLike, tenant: TenantContext): Promise<string[]> {
  const probe = new Array<number>(tenant.config.ai.embeddings.dimensions).fill(0);
  probe[0] = 1;
  const { matches } = await vectorize.query(probe, {
    topK: SWEEP_TOP_K,
    namespace: tenant.tenantId,
    returnValues: false,
    returnMetadata: "none",
  });
  return matches.map((match) => match.id);
}

/** Deletes what the namespace still returns, a few queries' worth; returns how many ids it deleted. */
async function sweep(vectorize: VectorizeLike, tenant: TenantContext): Promise<number> {
  const deleted = new Set<string>();
  for (let query = 0; query < SWEEP_QUERIES; query++) {
    // Ids deleted already may still be returned while Vectorize applies the delete.
    const fresh = (await sweepQuery(vectorize, tenant)).filter((id) => !deleted.has(id));
    if (fresh.length === 0) break;
    for (let i = 0; i < fresh.length; i += VECTORIZE_LIMITS.maxBatch) {
      await vectorize.deleteByIds(fresh.slice(i, i + VECTORIZE_LIMITS.maxBatch));
    }
    for (const id of fresh) deleted.add(id);
  }
  return deleted.size;
}

/** How many KV keys are under `prefix`. */
async function countCache(kv: KVNamespace, prefix: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await kv.list({ prefix, limit: KV_PAGE, ...(cursor ? { cursor } : {}) });
    count += page.keys.length;
    if (page.list_complete) return count;
    cursor = page.cursor;
  }
}
