/**
 * Retrieval's public limits, without zod (see chat-limits.ts for why).
 */
export const RETRIEVAL_LIMITS = {
  /** Bytes of one uploaded file (multipart) or JSON ingest body. */
  maxUploadBytes: 10 * 1024 * 1024,
  /** Characters of a document's text after parsing. */
  maxTextChars: 2_000_000,
  /** Levels of nested objects and arrays in an uploaded JSON file (the top-level value is 1). */
  maxJsonDepth: 64,
  /** Pages of an uploaded PDF. */
  maxPdfPages: 1_000,
  /** Bytes an uploaded PDF's Flate-compressed streams (content, fonts, images) may expand to in all. */
  maxPdfInflatedBytes: 64 * 1024 * 1024,
  /** Columns (cells per row) of an uploaded CSV or TSV file. */
  maxCsvColumns: 16_384,
  /** Chunks one document may be cut into (a page of headings each a section can make many). */
  maxChunksPerDocument: 20_000,
  /** Characters of a search query. */
  maxQueryChars: 2_000,
  /** Upper bound of topK (a tenant's `retrieval.maxTopK` may be lower). */
  maxTopK: 50,
  /** Metadata: keys per document, characters per key and per string value. */
  maxMetadataKeys: 16,
  maxMetadataKeyChars: 64,
  maxMetadataValueChars: 256,
  /** Page size for document lists. */
  maxPageSize: 100,
  defaultPageSize: 20,
} as const;

/**
 * Document ids: chosen by the client or derived; safe for DO names, R2 keys and Vectorize ids, and
 * able to travel as one URL path segment (`/v1/documents/:id`) — so not "." or "..", which URL
 * parsers resolve away as dot-segments before any route sees them.
 */
export const DOCUMENT_ID_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._:-]{1,96}$/;

/** Metadata keys that are never accepted: they name Object.prototype's own machinery. */
export const RESERVED_METADATA_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
