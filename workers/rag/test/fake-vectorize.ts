/**
 * Test double: an in-memory Vectorize index that enforces what the real one does and the rag
 * worker relies on — ids unique per index (not per namespace) and ≤ 64 bytes, a namespace on every
 * write and query, topK ≤ 20 when metadata or values are returned (≤ 100 otherwise), ≤ 1000
 * vectors per write, metadata ≤ 10 KiB, filters ≤ 2 KB — and records every call. Deletes can be
 * held back to imitate Vectorize applying mutations asynchronously, and the index can be "down".
 */
import type { VectorizeLike } from "../src/vectors/vectorize";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).byteLength;

interface Stored {
  id: string;
  values: number[];
  namespace: string;
  metadata: Record<string, VectorizeVectorMetadata>;
}

export type FakeCall =
  | { op: "upsert"; ids: string[]; namespaces: string[] }
  | { op: "deleteByIds"; ids: string[] }
  | { op: "query"; options: VectorizeQueryOptions };

export class FakeVectorize implements VectorizeLike {
  readonly vectors = new Map<string, Stored>();
  readonly calls: FakeCall[] = [];
  /** When false, deleteByIds is recorded but not applied (a mutation still in flight). */
  applyDeletes = true;
  /** When true, every call fails as during an outage. */
  down = false;

  #check(): void {
    if (this.down) throw new Error("Vectorize is unavailable (simulated outage)");
  }

  async upsert(vectors: VectorizeVector[]): Promise<VectorizeAsyncMutation> {
    this.#check();
    if (vectors.length > 1000) throw new Error("VECTOR_UPSERT_ERROR: more than 1000 vectors in one batch");
    for (const vector of vectors) {
      if (bytes(vector.id) > 64) throw new Error(`vector id over 64 bytes: ${vector.id}`);
      if (!vector.namespace) throw new Error("the rag worker must always write into a namespace");
      if (bytes(vector.namespace) > 64) throw new Error("namespace over 64 bytes");
      if (bytes(JSON.stringify(vector.metadata ?? {})) > 10 * 1024) throw new Error("metadata over 10 KiB");
      this.vectors.set(vector.id, {
        id: vector.id,
        values: [...vector.values],
        namespace: vector.namespace,
        metadata: (vector.metadata ?? {}) as Record<string, VectorizeVectorMetadata>,
      });
    }
    this.calls.push({ op: "upsert", ids: vectors.map((v) => v.id), namespaces: vectors.map((v) => v.namespace!) });
    return { mutationId: crypto.randomUUID() };
  }

  async deleteByIds(ids: string[]): Promise<VectorizeAsyncMutation> {
    this.#check();
    if (ids.length > 1000) throw new Error("more than 1000 ids in one delete");
    this.calls.push({ op: "deleteByIds", ids: [...ids] });
    if (this.applyDeletes) for (const id of ids) this.vectors.delete(id);
    return { mutationId: crypto.randomUUID() };
  }

  async query(vector: number[] | Float32Array, options: VectorizeQueryOptions): Promise<VectorizeMatches> {
    this.#check();
    this.calls.push({ op: "query", options: structuredClone(options) });
    const topK = options.topK ?? 5;
    const rich =
      options.returnValues === true ||
      (options.returnMetadata !== undefined && options.returnMetadata !== "none" && options.returnMetadata !== false);
    if (topK > (rich ? 20 : 100)) throw new Error(`topK ${topK} is over Vectorize's limit`);
    if (!options.namespace) throw new Error("the rag worker must always query within a namespace");
    if (options.filter && bytes(JSON.stringify(options.filter)) > 2048) throw new Error("filter over 2 KB");
    const matches = [...this.vectors.values()]
      .filter((stored) => stored.namespace === options.namespace && matchesFilter(stored, options.filter))
      .map((stored) => ({ stored, score: cosine([...vector], stored.values) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, topK)
      .map(({ stored, score }) => ({ id: stored.id, score, ...(rich ? { metadata: stored.metadata } : {}) }));
    return { matches, count: matches.length };
  }

  /** Stored vectors of a namespace. */
  inNamespace(namespace: string): Stored[] {
    return [...this.vectors.values()].filter((v) => v.namespace === namespace);
  }
}

function matchesFilter(stored: Stored, filter: VectorizeVectorMetadataFilter | undefined): boolean {
  for (const [key, condition] of Object.entries(filter ?? {})) {
    const value = stored.metadata[key];
    if (condition !== null && typeof condition === "object") {
      if ("$eq" in condition && value !== condition.$eq) return false;
      if ("$in" in condition && !(condition.$in as unknown[]).includes(value)) return false;
    } else if (value !== condition) return false;
  }
  return true;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
