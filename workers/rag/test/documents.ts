/**
 * Test helper: a document and its chunks as ingest would hand them to rag — one chunk per
 * paragraph, provenance offsets into the joined text, embeddings from the local provider.
 */
import { createLocalProvider } from "@crispy/ai";
import type { IndexedChunk, Metadata } from "@crispy/contracts";
import type { DocumentInput } from "../src/document-store";
import { EMBEDDINGS } from "./tenant";

const embedder = createLocalProvider();
const META = { tenantId: "test", requestId: "test", gatewayId: "test" };

export interface DocumentOptions {
  version?: number;
  title?: string;
  url?: string | null;
  metadata?: Metadata;
  contentHash?: string;
  /** Chunk ids, one per paragraph (default `${id}:v${version}:${n}`). */
  chunkIds?: string[];
}

export interface TestDocument {
  doc: DocumentInput;
  chunks: IndexedChunk[];
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function makeDocument(
  id: string,
  paragraphs: string[],
  options: DocumentOptions = {},
): Promise<TestDocument> {
  const version = options.version ?? 1;
  const text = paragraphs.join("\n\n");
  const { vectors } = await embedder.embed(
    { model: EMBEDDINGS.model, texts: paragraphs, dimensions: EMBEDDINGS.dimensions },
    META,
  );
  let offset = 0;
  const chunks = paragraphs.map((paragraph, n): IndexedChunk => {
    const start = offset;
    offset += paragraph.length + 2;
    return {
      chunkId: options.chunkIds?.[n] ?? `${id}:v${version}:${n}`,
      text: paragraph,
      tokens: Math.ceil(paragraph.length / 4),
      provenance: {
        docId: id,
        version,
        start,
        end: start + paragraph.length,
        headingPath: [options.title ?? id],
        page: null,
      },
      vector: vectors[n]!,
    };
  });
  const doc: DocumentInput = {
    id,
    title: options.title ?? `Title of ${id}`,
    source: "test",
    url: options.url === undefined ? `https://docs.example/${id}` : options.url,
    metadata: options.metadata ?? {},
    contentHash: options.contentHash ?? (await sha256(text)),
    version,
    contentType: "text/plain",
    bytes: new TextEncoder().encode(text).byteLength,
  };
  return { doc, chunks };
}
