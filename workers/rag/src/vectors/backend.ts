/**
 * Where chunk embeddings live, behind one interface, chosen by the VECTOR_BACKEND var:
 * - "durable-object" (default, offline): in the tenant's TenantIndex, searched by brute-force
 *   cosine — fine for local runs and small tenants.
 * - "vectorize" (production): a Vectorize index, namespace = tenant id (vectorize.ts).
 *
 * Order of a document change (the service drives it): `put` the new version's vectors, commit the
 * TenantIndex, then `remove` the replaced version's vectors. A backend does not return chunks: it
 * returns a probe (the query vector, or the store's matches) that the TenantIndex ranks or
 * resolves together with BM25 in one call (`rank`). The index holds only current chunks, so
 * vectors of a replaced or deleted version that linger (Vectorize applies mutations
 * asynchronously) are never served.
 */
import type { IndexedChunk, Metadata } from "@crispy/contracts";
import type { ReplacedVersion, TenantIndex, VectorProbe } from "../tenant-index";
import { createVectorizeBackend, type VectorizeLike } from "./vectorize";

/** The TenantIndex calls a backend may make (the tenant's own stub). */
export type IndexReader = Pick<DurableObjectStub<TenantIndex>, "matchingDocIds">;

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

const durableObjectBackend: VectorBackend = {
  name: "durable-object",
  inIndex: true,
  async put() {},
  async remove() {},
  async probe(_tenantId, _index, vector) {
    return { kind: "vector", vector };
  },
};

/** The backend VECTOR_BACKEND names; a misconfiguration throws at once, naming what to set. */
export function vectorBackendFor(env: { VECTOR_BACKEND?: string; VECTORIZE?: VectorizeLike }): VectorBackend {
  const name = env.VECTOR_BACKEND?.trim() || "durable-object";
  if (name === "durable-object") return durableObjectBackend;
  if (name === "vectorize") {
    if (!env.VECTORIZE) {
      throw new Error(
        'VECTOR_BACKEND is "vectorize" but the VECTORIZE binding is missing: add "vectorize" to wrangler.jsonc',
      );
    }
    return createVectorizeBackend(env.VECTORIZE);
  }
  throw new Error(`unknown VECTOR_BACKEND "${name}"; expected "durable-object" or "vectorize"`);
}
