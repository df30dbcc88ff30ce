/**
 * The content hash that makes ingest idempotent: SHA-256 (hex) over the parsed text and every
 * field rag stores with the document (title, source, url, metadata with sorted keys, content type,
 * which decides how the text was chunked). The same
 * upload with the same fields hashes the same whatever the file's bytes or name; a change to any
 * of them is a new version.
 */
import type { Metadata } from "@crispy/contracts";
import { sha256Hex } from "@crispy/worker-kit/util";

export interface HashedContent {
  text: string;
  title: string;
  source: string | null;
  url: string | null;
  metadata: Metadata;
  contentType: string;
}

export async function contentHash(content: HashedContent): Promise<string> {
  const metadata = Object.keys(content.metadata)
    .sort()
    .map((key) => [key, content.metadata[key]]);
  const canonical = JSON.stringify([
    content.text,
    content.title,
    content.source,
    content.url,
    metadata,
    content.contentType,
  ]);
  return sha256Hex(canonical);
}
