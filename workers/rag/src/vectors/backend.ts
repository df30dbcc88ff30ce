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
import { ConfigError } from "@crispy/worker-kit";
import { configOf } from "../config";
import { createVectorizeBackend, type VectorizeLike } from "./vectorize";
import type { VectorBackend } from "./types";

export type { IndexReader, VectorBackend } from "./types";

const durableObjectBackend: VectorBackend = {
  name: "durable-object",
  inIndex: true,
  async put() {},
  async remove() {},
  async probe(_tenantId, _index, vector) {
    return { kind: "vector", vector };
  },
};

/** The backend the VECTOR_BACKEND var names; "vectorize" without the binding throws at once, naming what to set. */
export function vectorBackendFor(env: RagEnv): VectorBackend {
  if (configOf(env).VECTOR_BACKEND === "durable-object") return durableObjectBackend;
  const binding = (env as RagEnv & { VECTORIZE?: VectorizeLike }).VECTORIZE;
  if (!binding) {
    throw new ConfigError(
      'crispy-rag configuration: VECTOR_BACKEND is "vectorize" but the VECTORIZE binding is missing: add "vectorize" to wrangler.jsonc',
    );
  }
  return createVectorizeBackend(binding);
}
