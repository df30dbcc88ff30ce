/**
 * The production vector backend: one Vectorize index shared by all tenants, one namespace per
 * tenant (namespace = tenant id, ≤ 48 characters by the tenant id pattern, within Vectorize's 64).
 *
 * Within Vectorize's limits (developers.cloudflare.com/vectorize/platform/limits):
 * - Vector ids are `${tenantId}:${docId}#${version}#${n}` (n = the chunk's position in its
 *   document), or, when that exceeds 64 bytes, `h:` + base64url(SHA-256 of it) — deterministic, so
 *   a replaced version's ids can be recomputed for deletion without storing them. The tenant id is
 *   part of the id because ids are unique per index, not per namespace (`deleteByIds` and
 *   `getByIds` take no namespace): without it, two tenants' "handbook" would overwrite each other.
 *   Tenant ids contain no ":", so the prefix is unambiguous.
 * - Metadata is only { docId, version, chunkId } — never the chunk text, which stays in the
 *   TenantIndex; a query's matches are resolved there (`rank`), which also drops vectors of
 *   replaced versions and re-applies the filter exactly.
 * - topK ≤ 20 because matches return metadata; writes in batches of ≤ 1000 vectors.
 * - Filters: Vectorize can only filter on indexed metadata, so a filter is first resolved to the
 *   tenant's matching document ids in the TenantIndex and sent as `docId $in [...]` (this needs a
 *   metadata index on docId). When that is impossible (too many documents, a filter JSON over
 *   2 KB, or an id over the 64 bytes Vectorize indexes of a string), the query runs unfiltered
 *   within the namespace and the TenantIndex filters the matches: still exact, possibly fewer hits.
 */
import type { IndexedChunk, Metadata } from "@crispy/contracts";
import { base64url, sha256 } from "@crispy/worker-kit/util";
import type { ChunkRef, IndexReader, ReplacedVersion, VectorBackend, VectorProbe } from "./types";

/** The parts of the Vectorize binding used here (both the V1 and V2 binding types satisfy it). */
export interface VectorizeLike {
  upsert(vectors: VectorizeVector[]): Promise<unknown>;
  deleteByIds(ids: string[]): Promise<unknown>;
  query(vector: number[] | Float32Array, options: VectorizeQueryOptions): Promise<VectorizeMatches>;
}

export const VECTORIZE_LIMITS = {
  maxIdBytes: 64,
  maxTopKWithMetadata: 20,
  maxBatch: 1000,
  maxFilterBytes: 2048,
  maxIndexedStringBytes: 64,
} as const;

/** Documents a filter may resolve to before the query falls back to filtering after the fact. */
const MAX_FILTER_DOCS = 50;

const encoder = new TextEncoder();

/** The Vectorize id of a tenant's document version's n-th chunk (≤ 64 bytes). */
export async function vectorId(tenantId: string, docId: string, version: number, n: number): Promise<string> {
  const id = `${tenantId}:${docId}#${version}#${n}`;
  if (encoder.encode(id).byteLength <= VECTORIZE_LIMITS.maxIdBytes) return id;
  return `h:${base64url(await sha256(id))}`;
}

async function idsOf(tenantId: string, docId: string, version: ReplacedVersion): Promise<string[]> {
  return Promise.all(
    Array.from({ length: version.chunkCount }, (_, n) => vectorId(tenantId, docId, version.version, n)),
  );
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The Vectorize filter restricting a query to the documents a filter matches, or undefined. */
async function vectorizeFilter(
  index: IndexReader,
  filter: Metadata | undefined,
): Promise<{ filter?: VectorizeVectorMetadataFilter; empty: boolean }> {
  if (!filter || Object.keys(filter).length === 0) return { empty: false };
  const docIds = await index.matchingDocIds(filter, MAX_FILTER_DOCS);
  if (docIds === null) return { empty: false };
  if (docIds.length === 0) return { empty: true };
  if (docIds.some((id) => encoder.encode(id).byteLength > VECTORIZE_LIMITS.maxIndexedStringBytes)) {
    return { empty: false };
  }
  const candidate: VectorizeVectorMetadataFilter =
    docIds.length === 1 ? { docId: { $eq: docIds[0]! } } : { docId: { $in: docIds } };
  if (encoder.encode(JSON.stringify(candidate)).byteLength > VECTORIZE_LIMITS.maxFilterBytes) return { empty: false };
  return { filter: candidate, empty: false };
}

export function createVectorizeBackend(binding: VectorizeLike): VectorBackend {
  return {
    name: "vectorize",
    inIndex: false,

    async put(tenantId: string, docId: string, version: number, chunks: IndexedChunk[]): Promise<void> {
      const vectors: VectorizeVector[] = await Promise.all(
        chunks.map(async (chunk, n) => ({
          id: await vectorId(tenantId, docId, version, n),
          values: chunk.vector,
          namespace: tenantId,
          metadata: { docId, version, chunkId: chunk.chunkId },
        })),
      );
      for (const batch of batches(vectors, VECTORIZE_LIMITS.maxBatch)) await binding.upsert(batch);
    },

    async remove(tenantId: string, docId: string, replaced: ReplacedVersion, current: ReplacedVersion | null) {
      const keep = new Set(current ? await idsOf(tenantId, docId, current) : []);
      const stale = (await idsOf(tenantId, docId, replaced)).filter((id) => !keep.has(id));
      for (const batch of batches(stale, VECTORIZE_LIMITS.maxBatch)) await binding.deleteByIds(batch);
    },

    async probe(tenantId, index, vector, k, filter): Promise<VectorProbe> {
      const scoped = await vectorizeFilter(index, filter);
      if (scoped.empty) return { kind: "matches", refs: [] };
      const { matches } = await binding.query(vector, {
        topK: Math.min(k, VECTORIZE_LIMITS.maxTopKWithMetadata),
        namespace: tenantId,
        returnMetadata: "all",
        ...(scoped.filter ? { filter: scoped.filter } : {}),
      });
      const refs = matches.flatMap((match): ChunkRef[] => {
        const { docId, chunkId, version } = match.metadata ?? {};
        if (typeof docId !== "string" || typeof chunkId !== "string" || typeof version !== "number") return [];
        return [{ docId, chunkId, version, score: match.score }];
      });
      return { kind: "matches", refs };
    },
  };
}
