/**
 * Contracts of retrieval: ingest bodies, search bodies, and the RPC shapes of the ingest and rag
 * workers. Validated once at the gateway.
 */
import { z } from "zod";
import { DOCUMENT_ID_PATTERN, RESERVED_METADATA_KEYS, RETRIEVAL_LIMITS as L } from "./retrieval-limits";
import { HTTP_URL_MESSAGE, isHttpUrl } from "./urls";

export const DOCUMENT_ID_MESSAGE = 'must be 1-96 characters of A-Z a-z 0-9 . _ : - (and not "." or "..")';

export const DocumentIdSchema = z.string().regex(DOCUMENT_ID_PATTERN, DOCUMENT_ID_MESSAGE);

/** A URL a document may link to: http(s) only. */
export const HttpUrlSchema = z.string().max(2048).refine(isHttpUrl, HTTP_URL_MESSAGE);

const RESERVED_KEY_MESSAGE = "is a reserved name (__proto__, constructor, prototype)";

/**
 * Metadata: ≤ 16 keys of 1–64 characters, values strings ≤ 256 characters, numbers or booleans.
 * Reserved keys are refused on the raw input, before zod builds its output — which leaves a
 * `__proto__` key out instead of failing on it (it would be dropped silently, not refused).
 */
export const MetadataSchema = z
  .unknown()
  .superRefine((value, ctx) => {
    if (typeof value !== "object" || value === null) return;
    for (const key of Object.keys(value)) {
      if (RESERVED_METADATA_KEYS.has(key)) ctx.addIssue({ code: "custom", path: [key], message: RESERVED_KEY_MESSAGE });
    }
  })
  .pipe(
    z
      .record(
        z
          .string()
          .min(1)
          .max(L.maxMetadataKeyChars)
          .refine((key) => !RESERVED_METADATA_KEYS.has(key), RESERVED_KEY_MESSAGE),
        z.union([z.string().max(L.maxMetadataValueChars), z.number().finite(), z.boolean()]),
      )
      .refine((value) => Object.keys(value).length <= L.maxMetadataKeys, `at most ${L.maxMetadataKeys} keys`),
  );
export type Metadata = Record<string, string | number | boolean>;

/** Formats a JSON ingest's `text` may be written in. */
export const TEXT_FORMATS = ["text", "markdown", "html"] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

export const IngestJsonBodySchema = z.strictObject({
  id: DocumentIdSchema.optional(),
  title: z.string().trim().min(1).max(300).optional(),
  source: z.string().max(300).optional(),
  url: HttpUrlSchema.optional(),
  text: z.string().min(1, "must not be empty").max(L.maxTextChars, `must be at most ${L.maxTextChars} characters`),
  /** How `text` is written: plain text (default), Markdown (headings become the chunks' heading paths) or HTML. */
  format: z.enum(TEXT_FORMATS).optional(),
  metadata: MetadataSchema.optional(),
});
export type IngestJsonBody = z.output<typeof IngestJsonBodySchema>;

export const SearchBodySchema = z.strictObject({
  query: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(L.maxQueryChars, `must be at most ${L.maxQueryChars} characters`),
  topK: z.number().int().min(1).max(L.maxTopK).optional(),
  /** Equality filters on document metadata, plus `docId`; all must match. */
  filter: MetadataSchema.optional(),
  stream: z.boolean().default(false),
});
export type SearchBody = z.output<typeof SearchBodySchema>;

/** What ingest receives from the gateway: JSON text, or an uploaded file's bytes. */
export interface IngestInput {
  id?: string;
  title?: string;
  source?: string;
  url?: string;
  metadata?: Metadata;
  text?: string;
  /** With `text`: how it is written (default "text"). */
  format?: TextFormat;
  file?: { name: string; contentType: string; bytes: ArrayBuffer };
}

export type IngestJobState = "queued" | "running" | "done" | "failed" | "unchanged";

export interface IngestJob {
  id: string;
  docId: string;
  state: IngestJobState;
  /** Pipeline step while running: parse, chunk, embed, index. */
  step: "parse" | "chunk" | "embed" | "index" | null;
  chunksDone: number;
  chunksTotal: number;
  version: number;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
}

export interface ChunkProvenance {
  docId: string;
  version: number;
  /** Character offsets into the document's parsed text. */
  start: number;
  end: number;
  headingPath: string[];
  page: number | null;
}

/** A chunk as ingest hands it to rag: text, provenance and its embedding. */
export interface IndexedChunk {
  chunkId: string;
  text: string;
  tokens: number;
  provenance: ChunkProvenance;
  vector: number[];
}

export interface DocumentRecord {
  id: string;
  title: string;
  source: string | null;
  url: string | null;
  metadata: Metadata;
  contentHash: string;
  version: number;
  chunkCount: number;
  contentType: string;
  bytes: number;
  createdAt: string;
  updatedAt: string;
}

export interface RetrievedChunk {
  chunkId: string;
  docId: string;
  title: string;
  url: string | null;
  text: string;
  provenance: ChunkProvenance;
  /** Fused (RRF) score; higher is better. */
  score: number;
}

export interface SearchSource {
  /** The citation number used in the answer, `[n]`. */
  n: number;
  docId: string;
  chunkId: string;
  title: string;
  url: string | null;
  snippet: string;
  score: number;
}

export interface SearchAnswer {
  answer: string;
  sources: SearchSource[];
  /** Whether anything relevant was found; when false the answer says so. */
  found: boolean;
  cached: boolean;
  model: string;
  /** The search's spans (ms by name: retrieve, model); the gateway moves them into Server-Timing. */
  timings?: Record<string, number>;
}
