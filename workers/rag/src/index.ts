/**
 * crispy-rag: the tenant's document index, hybrid retrieval and cited answers, over RPC only (no
 * public routes; the gateway, chat, ingest and tools call it with the resolved TenantContext
 * first). Exports the entrypoint and its one Durable Object:
 * - TenantIndex `${tenantId}` — the tenant's documents, chunks, FTS5 index, embeddings (local
 *   backend) and index version.
 *
 * Invariants:
 * - A tenant only ever reaches its own TenantIndex, Vectorize namespace and cache keys; another
 *   tenant's document id is "not_found", and in a filter it matches nothing.
 * - Only the current version of a document is served: a new version replaces the old chunks in
 *   one transaction, and vector matches are resolved through the TenantIndex.
 * - Answers cite only retrieved chunks; when nothing relevant is retrieved no model is called.
 *
 * Offline by default: AI_PROVIDER "local" and VECTOR_BACKEND "durable-object" need no account.
 * Production deploys with `wrangler deploy --env production`, whose `env.production` block adds
 * the Workers AI and Vectorize bindings (kept out of the default env on purpose: declared there,
 * they make `wrangler dev` open a remote proxy session, which fails without a Cloudflare login).
 */
export { default } from "./service";
export { TenantIndex } from "./tenant-index";
