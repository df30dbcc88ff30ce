/**
 * Test helpers: a fresh tenant (its own jobs, documents and index) with a configurable embedding
 * model, `unwrap`/`failure` for RPC results, and `file` for upload inputs.
 */
import { TenantConfigSchema, type IngestInput, type TenantConfig, type TenantContext } from "@crispy/contracts";
import { contextFor, freshTenantId } from "@crispy/testing";

export const EMBED_MODEL = "local/hash-embed-64";
export const FAIL_ALWAYS = "local/fail-always";

export function makeTenant(options: { embeddingsModel?: string } = {}, tenantId = freshTenantId()): TenantContext {
  const config: TenantConfig = TenantConfigSchema.parse({
    id: tenantId,
    name: `Test tenant ${tenantId}`,
    ai: {
      gatewayId: "test-gateway",
      chat: { default: "local/echo-1", allowed: ["local/echo-1"] },
      embeddings: { model: options.embeddingsModel ?? EMBED_MODEL, dimensions: 64 },
    },
    rateLimits: { perKey: { perMinute: 600, burst: 100 }, tenant: { perMinute: 6000, burst: 1000 } },
    budgets: { dailyTokens: 10_000_000, monthlyTokens: 100_000_000 },
  });
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
