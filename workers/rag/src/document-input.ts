/**
 * Checks a document and its chunks as ingest hands them over, before anything is written. Ingest
 * is trusted to have parsed and chunked correctly; these checks guard what the index relies on:
 * a valid id, chunks that belong to this document version, unique chunk ids, and embeddings of
 * the tenant's dimensions (a query vector of another size would never match them).
 */
import {
  DOCUMENT_ID_MESSAGE,
  DOCUMENT_ID_PATTERN,
  HTTP_URL_MESSAGE,
  type IndexedChunk,
  isHttpUrl,
  RETRIEVAL_LIMITS,
} from "@crispy/contracts";
import { filterProblem } from "./filter";
import type { DocumentInput } from "./document-store";

/** Chunks one document may have (2,000,000 characters in chunks of ≥ 100). */
export const MAX_CHUNKS = RETRIEVAL_LIMITS.maxChunksPerDocument;
const MAX_CHUNK_ID_CHARS = 256;

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** Why the document cannot be indexed, or null when it can. */
export function problemWithDocument(doc: DocumentInput, chunks: IndexedChunk[], dimensions: number): string | null {
  if (typeof doc !== "object" || doc === null) return "document must be an object";
  if (typeof doc.id !== "string" || !DOCUMENT_ID_PATTERN.test(doc.id)) {
    return `document id ${DOCUMENT_ID_MESSAGE}`;
  }
  if (doc.url !== null && !isHttpUrl(doc.url)) return `url ${HTTP_URL_MESSAGE}`;
  if (!Number.isInteger(doc.version) || doc.version < 1) return "document version must be a positive integer";
  if (typeof doc.contentHash !== "string" || doc.contentHash === "") return "contentHash must be a non-empty string";
  if (typeof doc.title !== "string") return "title must be a string";
  if (typeof doc.contentType !== "string" || !isCount(doc.bytes)) return "contentType and bytes are required";
  const metadataProblem = filterProblem(doc.metadata ?? null);
  if (metadataProblem) return metadataProblem.replace("filter", "metadata");
  if (!Array.isArray(chunks)) return "chunks must be an array";
  if (chunks.length > MAX_CHUNKS) return `a document may have at most ${MAX_CHUNKS} chunks`;
  const ids = new Set<string>();
  for (const [n, chunk] of chunks.entries()) {
    const at = `chunk ${n}`;
    if (typeof chunk?.chunkId !== "string" || chunk.chunkId === "" || chunk.chunkId.length > MAX_CHUNK_ID_CHARS) {
      return `${at}: chunkId must be 1-${MAX_CHUNK_ID_CHARS} characters`;
    }
    if (ids.has(chunk.chunkId)) return `${at}: chunkId "${chunk.chunkId}" appears twice`;
    ids.add(chunk.chunkId);
    if (typeof chunk.text !== "string") return `${at}: text must be a string`;
    if (!isCount(chunk.tokens)) return `${at}: tokens must be a whole number`;
    const p = chunk.provenance;
    if (p?.docId !== doc.id || p.version !== doc.version) {
      return `${at}: provenance must name document "${doc.id}" version ${doc.version}`;
    }
    if (!isCount(p.start) || !isCount(p.end) || p.end < p.start) return `${at}: provenance offsets are invalid`;
    if (!Array.isArray(p.headingPath) || p.headingPath.some((part) => typeof part !== "string")) {
      return `${at}: headingPath must be an array of strings`;
    }
    if (p.page !== null && !isCount(p.page)) return `${at}: page must be a whole number or null`;
    if (!Array.isArray(chunk.vector) || chunk.vector.length !== dimensions) {
      return `${at}: vector must have the tenant's ${dimensions} dimensions`;
    }
    if (!chunk.vector.every((value) => Number.isFinite(value))) return `${at}: vector values must be finite numbers`;
  }
  return null;
}
