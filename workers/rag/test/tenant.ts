/** Test helpers: a fresh tenant (its own TenantIndex, cache keys and vector namespace) on the local provider. */
import type { TenantConfig, TenantContext } from "@crispy/contracts";
import { MODELS, contextFor, freshTenantId, testConfig } from "@crispy/testing";

export const ECHO = MODELS.echo;
export const EMBEDDINGS = { model: "local/hash-embed-384", dimensions: 384 } as const;

export interface TenantOptions {
  retrieval?: Partial<TenantConfig["retrieval"]>;
  chat?: Partial<TenantConfig["ai"]["chat"]>;
}

export function makeTenant(options: TenantOptions = {}, tenantId = freshTenantId()): TenantContext {
  const { retrieval, chat } = options;
  const config = testConfig(
    { ai: { embeddings: EMBEDDINGS, ...(chat ? { chat } : {}) }, ...(retrieval ? { retrieval } : {}) },
    tenantId,
  );
  return contextFor(config, ["search", "ingest"]);
}

export { failure, freshTenantId, unwrap } from "@crispy/testing";
