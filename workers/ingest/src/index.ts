/**
 * crispy-ingest: turns texts and uploaded files (.txt .md .html .json .csv .tsv .pdf) into indexed
 * chunks in crispy-rag, over RPC only (no public routes; the gateway calls it with the resolved
 * TenantContext first). Exports the entrypoint and its Durable Object:
 * - IngestJob `${tenantId}:${jobId}` — one ingest job: its status and the alarm-driven pipeline
 *   parse → chunk → embed → index, with retries.
 *
 * Owns the raw files in R2 (DOCUMENTS) at `${tenantId}/documents/${docId}/v${version}/${file}`.
 *
 * Invariants:
 * - A job id or document id of another tenant is "not_found", indistinguishable from missing.
 * - Re-ingesting the same content (same parsed text, title, source, url, metadata) is "unchanged"
 *   and does no work; changed content becomes the next version, replacing the previous one's
 *   chunks in rag atomically and, once indexed, its raw file.
 * - Expected failures are RpcResult values ("bad_request", "payload_too_large",
 *   "unsupported_media_type", "not_found", "upstream_unavailable"); a job's own failure is its
 *   state "failed" with the error.
 *
 * Offline by default: AI_PROVIDER "local" embeds without an account or network. Production deploys
 * with `wrangler deploy --env production`, whose `env.production` block adds the Workers AI binding
 * and sets AI_PROVIDER "workers-ai" (kept out of the default env: declared there, it makes
 * `wrangler dev` open a remote proxy session, which fails without a Cloudflare login).
 */
export { IngestService as default } from "./service";
export { IngestJob } from "./job";
