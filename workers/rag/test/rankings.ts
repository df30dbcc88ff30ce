/** Test helpers: one ranking of a TenantIndex through its public `rank` call. */
import type { Metadata, RetrievedChunk } from "@crispy/contracts";
import type { TenantIndex } from "../src/tenant-index";

type Index = DurableObjectStub<TenantIndex>;

/** The k best BM25 matches of `query`. */
export async function lexical(index: Index, query: string, k: number, filter?: Metadata): Promise<RetrievedChunk[]> {
  return (await index.rank({ query, probe: null, k, ...(filter ? { filter } : {}) })).lexical;
}

/** The k chunks whose stored embeddings are nearest to `vector`. */
export async function nearest(index: Index, vector: number[], k: number, filter?: Metadata): Promise<RetrievedChunk[]> {
  return (await index.rank({ query: null, probe: { kind: "vector", vector }, k, ...(filter ? { filter } : {}) }))
    .vector;
}
