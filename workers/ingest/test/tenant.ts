/**
 * Test helpers: a fresh tenant (its own jobs, documents and index) with a configurable embedding
 * model, `unwrap`/`failure` for RPC results, and `file` for upload inputs.
 */
import type { IngestInput, TenantContext } from "@crispy/contracts";
import { MODELS, contextFor, freshTenantId, testConfig } from "@crispy/testing";

export const EMBED_MODEL = "local/hash-embed-64";
export const FAIL_ALWAYS = MODELS.failAlways;

export function makeTenant(options: { embeddingsModel?: string } = {}, tenantId = freshTenantId()): TenantContext {
  const config = testConfig(
    { ai: { embeddings: { model: options.embeddingsModel ?? EMBED_MODEL, dimensions: 64 } } },
    tenantId,
  );
  return contextFor(config, ["ingest"]);
}

/** An upload of `content` (text or bytes) named `name`. */
export function file(
  name: string,
  contentType: string,
  content: string | Uint8Array,
): Required<Pick<IngestInput, "file">> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    file: {
      name,
      contentType,
      bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    },
  };
}

export { failure, freshTenantId, unwrap } from "@crispy/testing";
