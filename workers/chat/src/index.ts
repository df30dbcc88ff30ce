/**
 * crispy-chat: chat turns and sessions, over RPC only (no public routes; the gateway calls it with
 * the resolved TenantContext first). Exports the entrypoint and its two Durable Objects:
 * - ChatSession `${tenantId}:${sessionId}` — a session's messages; runs its turns one at a time.
 * - SessionDirectory `${tenantId}` — the tenant's sessions; the source of truth for existence.
 *
 * Invariants:
 * - A session id the tenant's directory does not hold (unknown, deleted, expired, or another
 *   tenant's) is "not_found" for every method, indistinguishable from missing.
 * - Expected failures are RpcResult values ("not_found", "forbidden", "budget_exceeded",
 *   "ai_unavailable", "bad_request"); a streamed turn that fails after streaming began reports an
 *   `error` event in the stream instead.
 * - Cancelling a returned `body` aborts the model call; the turn commits nothing and settles.
 *
 * Offline by default: AI_PROVIDER "local" needs no account or network, for `pnpm dev` and tests.
 * Production deploys with `wrangler deploy --env production`, whose `env.production` block in
 * wrangler.jsonc adds the Workers AI binding (`"ai": { "binding": "AI" }`) and sets AI_PROVIDER
 * "workers-ai". The binding is kept out of the default env on purpose: declared there, it makes
 * `wrangler dev` open a remote proxy session, which fails without a Cloudflare login.
 */
export { ChatService as default } from "./service";
export { ChatSession } from "./session";
export { SessionDirectory } from "./directory";
