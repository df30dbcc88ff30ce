/**
 * What ingest needs from crispy-rag (binding RAG): read a document's current version and hash,
 * replace a document's chunks atomically, delete a document. The job pipeline depends on this
 * interface, not on the binding, so tests can hand it a fake index.
 */
import type { DocumentRecord, IndexedChunk, RpcResult, TenantContext } from "@crispy/contracts";

/** The document fields ingest sends; rag adds chunkCount and the timestamps. */
export type NewDocument = Omit<DocumentRecord, "chunkCount" | "createdAt" | "updatedAt">;

export interface DocumentIndex {
  getDocument(tenant: TenantContext, docId: string): Promise<RpcResult<DocumentRecord>>;
  upsertDocument(
    tenant: TenantContext,
    doc: NewDocument,
    chunks: IndexedChunk[],
  ): Promise<RpcResult<{ indexVersion: number; unchanged: boolean }>>;
  deleteDocument(
    tenant: TenantContext,
    docId: string,
  ): Promise<RpcResult<{ id: string; deleted: true; indexVersion: number }>>;
}

/** Error codes from rag that a later attempt may not see again. */
const TRANSIENT = new Set(["upstream_unavailable", "internal", "rate_limited", "ai_unavailable"]);

export function isTransient(code: string): boolean {
  return TRANSIENT.has(code);
}

/** The rag worker through its service binding. */
export function ragIndex(env: IngestEnv): DocumentIndex {
  const rag = env.RAG;
  return {
    getDocument: (tenant, docId) => rag.getDocument(tenant, docId),
    upsertDocument: (tenant, doc, chunks) => rag.upsertDocument(tenant, doc, chunks),
    deleteDocument: (tenant, docId) => rag.deleteDocument(tenant, docId),
  };
}
