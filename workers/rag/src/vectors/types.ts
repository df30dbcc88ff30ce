/**
 * The vocabulary shared by the TenantIndex and the vector backends, in a module of its own so
 * neither imports the other (backend.ts and vectorize.ts both depend on it, and nothing here
 * depends on them).
 */
import type { IndexedChunk, Metadata } from "@crispy/contracts";

/** A chunk named by a vector store's match, to be resolved against the current index. */
export interface ChunkRef {
  docId: string;
  chunkId: string;
  version: number;
  score: number;
}

/**
 * What the index needs to rank by vector: the query vector (embeddings stored in the index), or
 * the matches an external vector store found, to be resolved against the current chunks.
 */
export type VectorProbe = { kind: "vector"; vector: number[] } | { kind: "matches"; refs: ChunkRef[] };

/** The version a change replaced or removed, so its vectors can be deleted elsewhere. */
export interface ReplacedVersion {
  version: number;
  chunkCount: number;
}

/** The one TenantIndex call a backend may make (on the tenant's own stub). */
export interface IndexReader {
  /** Ids of the documents a filter matches, or null when there are more than `limit`. */
  matchingDocIds(filter: Metadata, limit: number): Promise<string[] | null>;
}

export interface VectorBackend {
  readonly name: "durable-object" | "vectorize";
  /** Whether the TenantIndex stores the embeddings itself (then put/remove do nothing). */
  readonly inIndex: boolean;
  /** Stores the vectors of a document version (before the TenantIndex commits it). */
  put(tenantId: string, docId: string, version: number, chunks: IndexedChunk[]): Promise<void>;
  /** Removes the vectors of a replaced or deleted version, except ids the current version reuses. */
  remove(tenantId: string, docId: string, replaced: ReplacedVersion, current: ReplacedVersion | null): Promise<void>;
  /** What the TenantIndex needs to rank the k chunks nearest to `vector` (cosine similarity). */
  probe(tenantId: string, index: IndexReader, vector: number[], k: number, filter?: Metadata): Promise<VectorProbe>;
}
