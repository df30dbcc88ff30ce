/**
 * crispy-rag: the tenant's document index, hybrid retrieval, cited answers and the embeddings
 * API's model calls (embed.ts), over RPC only (no
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
 * - `eraseTenant` (erase.ts) answers only the erasure context: Vectorize ids by document, the
 *   TenantIndex, a sweep of the namespace, then the tenant's cache keys.
 *
 * The entrypoint validates what the TenantIndex cannot (shapes, limits, dimensions), drives a
 * document change across the TenantIndex and the vector backend in a safe order (new vectors put →
 * TenantIndex commit → replaced vectors removed; readers resolve vector matches through the
 * TenantIndex, so they see the old version or the new one, never a stale chunk), and runs searches
 * (retrieve.ts, answer.ts, search-stream.ts) behind the search cache (cache.ts).
 *
 * Offline by default: AI_PROVIDER "local" and VECTOR_BACKEND "durable-object" need no account.
 * Production deploys with `wrangler deploy --env production`, whose `env.production` block adds
 * the Workers AI and Vectorize bindings (kept out of the default env on purpose: declared there,
 * they make `wrangler dev` open a remote proxy session, which fails without a Cloudflare login).
 */
import {
  DOCUMENT_ID_PATTERN,
  RETRIEVAL_LIMITS,
  fail,
  ok,
  type DocumentRecord,
  type EmbedInput,
  type Embedded,
  type EraseReport,
  type EraseRequest,
  type IndexedChunk,
  type ModelCallLog,
  type Page,
  type PageRequest,
  pageOf,
  type RetrievedChunk,
  type RpcError,
  type RpcResult,
  type SearchAnswer,
  type StartedStream,
  type TenantContext,
} from "@crispy/contracts";
import { chooseModels } from "@crispy/ai";
import { log, logFieldsOf, now, Spans, tracingOn } from "@crispy/observability";
import { InternalEntrypoint, errorMessage, idForMessage, stubFor } from "@crispy/worker-kit";
import { aiFromEnv } from "./ai";
import { composeAnswer, NO_MODEL, notFoundAnswer } from "./answer";
import { readCachedAnswer, searchCacheKey, writeCachedAnswer } from "./cache";
import { problemWithDocument } from "./document-input";
import { embedTexts } from "./embed";
import { eraseTenant } from "./erase";
import { rerankerFor } from "./rerank";
import { modelCallLog } from "./usage";
import {
  checkRequest,
  retrieveChunks,
  type CheckedRequest,
  type RetrievalDeps,
  type RetrieveRequest,
} from "./retrieve";
import { replayAnswer, streamAnswer } from "./search-stream";
import type { DocumentInput } from "./document-store";
import { TenantIndex } from "./tenant-index";
import { vectorBackendFor } from "./vectors/backend";

function notFound(docId: unknown): { ok: false; error: RpcError } {
  return fail("not_found", `document "${idForMessage(docId, 96)}" does not exist`);
}

function isDocumentId(docId: unknown): docId is string {
  return typeof docId === "string" && DOCUMENT_ID_PATTERN.test(docId);
}

export { TenantIndex };

/** A search answered from the cache: a "model call" that ran no model (0 tokens, cacheHit). */
function noteCacheHit(usage: ModelCallLog, answer: SearchAnswer): void {
  if (answer.model === NO_MODEL) return;
  usage.add({
    ts: Date.now(),
    model: answer.model,
    promptTokens: 0,
    completionTokens: 0,
    latencyMs: 0,
    ttftMs: null,
    cacheHit: true,
    outcome: "ok",
  });
  usage.flush();
}

export default class RagService extends InternalEntrypoint<RagEnv> {
  protected readonly worker = "rag";

  /** Indexes a document version, replacing its previous chunks atomically; a no-op for the same hash and version. */
  async upsertDocument(
    tenant: TenantContext,
    doc: DocumentInput,
    chunks: IndexedChunk[],
  ): Promise<RpcResult<{ indexVersion: number; unchanged: boolean }>> {
    const problem = problemWithDocument(doc, chunks, tenant.config.ai.embeddings.dimensions);
    if (problem) return fail("bad_request", problem);
    const index = stubFor(this.env.TENANT_INDEX, tenant.tenantId);
    const backend = vectorBackendFor(this.env);
    if (!backend.inIndex) {
      const current = await index.get(doc.id);
      if (current && current.contentHash === doc.contentHash && current.version === doc.version) {
        return ok({ indexVersion: await index.version(), unchanged: true });
      }
      if (current && doc.version < current.version) {
        return fail(
          "conflict",
          `document "${doc.id}" is at version ${current.version}; version ${doc.version} is older`,
        );
      }
      try {
        await backend.put(tenant.tenantId, doc.id, doc.version, chunks);
      } catch (error) {
        // Nothing was committed: the index still serves the previous version; ingest may retry.
        return fail("upstream_unavailable", `could not store the vectors of "${doc.id}": ${errorMessage(error)}`);
      }
    }
    const outcome = await index.upsert(doc, chunks, backend.inIndex);
    if (!outcome.ok) return outcome;
    const { indexVersion, unchanged, previous } = outcome.value;
    if (previous) {
      await this.#removeVectors(tenant, doc.id, previous, { version: doc.version, chunkCount: chunks.length });
    }
    return ok({ indexVersion, unchanged });
  }

  /** Deletes a document, its chunks and its vectors. */
  async deleteDocument(
    tenant: TenantContext,
    docId: string,
  ): Promise<RpcResult<{ id: string; deleted: true; indexVersion: number }>> {
    if (!isDocumentId(docId)) return notFound(docId);
    const outcome = await stubFor(this.env.TENANT_INDEX, tenant.tenantId).delete(docId);
    if (!outcome) return notFound(docId);
    await this.#removeVectors(tenant, docId, outcome.previous, null);
    return ok({ id: docId, deleted: true, indexVersion: outcome.indexVersion });
  }

  /** One document's record. */
  async getDocument(tenant: TenantContext, docId: string): Promise<RpcResult<DocumentRecord>> {
    if (!isDocumentId(docId)) return notFound(docId);
    const record = await stubFor(this.env.TENANT_INDEX, tenant.tenantId).get(docId);
    return record ? ok(record) : notFound(docId);
  }

  /** One page of the tenant's documents, most recently upserted first. */
  async listDocuments(tenant: TenantContext, page: PageRequest): Promise<RpcResult<Page<DocumentRecord>>> {
    const sizes = { defaultSize: RETRIEVAL_LIMITS.defaultPageSize, maxSize: RETRIEVAL_LIMITS.maxPageSize };
    return stubFor(this.env.TENANT_INDEX, tenant.tenantId).list(pageOf(page, sizes));
  }

  /** The chunks most relevant to a query (hybrid BM25 + vector), best first; for RAG chat. */
  async retrieve(tenant: TenantContext, request: RetrieveRequest): Promise<RpcResult<RetrievedChunk[]>> {
    const checked = checkRequest(tenant, request);
    if (!checked.ok) return checked;
    return retrieveChunks(this.#deps(tenant), tenant, checked.value);
  }

  /** Answers a query from the tenant's documents with checked citations (cached per index version). */
  async search(tenant: TenantContext, request: RetrieveRequest): Promise<RpcResult<SearchAnswer>> {
    // Spans (returned as `timings`): `cache` (index version, cache read and write), `retrieve`, `model` (the answer).
    const spans = tracingOn("rag", this.env) ? new Spans() : null;
    let started = now();
    const prepared = await this.#prepare(tenant, request);
    spans?.end("cache", started);
    if (!prepared.ok) return prepared;
    const { checked, cacheKey, cached } = prepared.value;
    const usage = modelCallLog(this.env, (work) => this.ctx.waitUntil(work), tenant, "search");
    if (cached) {
      noteCacheHit(usage, cached);
      return ok(spans ? { ...cached, timings: spans.timings() } : cached);
    }
    const deps = this.#deps(tenant);
    started = now();
    const chunks = await retrieveChunks(deps, tenant, checked);
    spans?.end("retrieve", started);
    if (!chunks.ok) return chunks;
    started = now();
    const answer = await composeAnswer(deps.ai, tenant, checked.query, chunks.value, usage);
    usage.flush();
    spans?.end("model", started);
    if (!answer.ok) return answer;
    started = now();
    await this.#cache(tenant, cacheKey, answer.value);
    spans?.end("cache", started);
    return ok(spans ? { ...answer.value, timings: spans.timings() } : answer.value);
  }

  /** Like `search`, streamed as SSE: `sources`, `token`…, then `done` (or `error`). */
  async searchStream(tenant: TenantContext, request: RetrieveRequest): Promise<RpcResult<StartedStream>> {
    const prepared = await this.#prepare(tenant, request);
    if (!prepared.ok) return prepared;
    const { checked, cacheKey, cached } = prepared.value;
    const usage = modelCallLog(this.env, (work) => this.ctx.waitUntil(work), tenant, "search");
    if (cached) {
      noteCacheHit(usage, cached);
      return ok({ sessionId: "", body: replayAnswer(cached) });
    }
    const deps = this.#deps(tenant);
    const chunks = await retrieveChunks(deps, tenant, checked);
    if (!chunks.ok) return chunks;
    if (chunks.value.length === 0) {
      const answer = notFoundAnswer();
      await this.#cache(tenant, cacheKey, answer);
      return ok({ sessionId: "", body: replayAnswer(answer) });
    }
    const { body, ended } = streamAnswer(
      deps.ai,
      tenant,
      checked.query,
      chunks.value,
      (answer) => this.#cache(tenant, cacheKey, answer),
      usage,
    );
    this.ctx.waitUntil(ended);
    return ok({ sessionId: "", body });
  }

  /** The tenant's embeddings model over `input.texts` (POST /v1/embeddings), vectors in input order. */
  async embed(tenant: TenantContext, input: EmbedInput): Promise<RpcResult<Embedded>> {
    const usage = modelCallLog(this.env, (work) => this.ctx.waitUntil(work), tenant, "embed");
    const embedded = await embedTexts(aiFromEnv(this.env), tenant, input, usage);
    usage.flush();
    return embedded;
  }

  /** Tenant erasure (the gateway's erasure job only): one phase's batch of the tenant's index, vectors and cache, or a count of what is left. */
  async eraseTenant(tenant: TenantContext, request?: EraseRequest): Promise<RpcResult<EraseReport>> {
    return eraseTenant(this.env, tenant, request);
  }

  #deps(tenant: TenantContext): RetrievalDeps {
    return {
      env: this.env,
      ai: aiFromEnv(this.env),
      backend: vectorBackendFor(this.env),
      reranker: rerankerFor(this.env, tenant),
    };
  }

  /** Validates a search and looks it up in the cache under the tenant's current index version. */
  async #prepare(
    tenant: TenantContext,
    request: RetrieveRequest,
  ): Promise<RpcResult<{ checked: CheckedRequest; cacheKey: string; cached: SearchAnswer | null }>> {
    const checked = checkRequest(tenant, request);
    if (!checked.ok) return checked;
    const { query, topK, filter } = checked.value;
    const { embeddings, chat } = tenant.config.ai;
    const cacheKey = await searchCacheKey({
      tenantId: tenant.tenantId,
      indexVersion: await stubFor(this.env.TENANT_INDEX, tenant.tenantId).version(),
      query,
      topK,
      filter,
      chatModels: chooseModels(chat),
      embeddingModel: embeddings.model,
      dimensions: embeddings.dimensions,
      rerank: rerankerFor(this.env, tenant) !== null,
    });
    return ok({ checked: checked.value, cacheKey, cached: await readCachedAnswer(this.env.SEARCH_CACHE, cacheKey) });
  }

  /** Stores an answer; a cache failure is logged, never the search's failure. */
  async #cache(tenant: TenantContext, key: string, answer: SearchAnswer): Promise<void> {
    try {
      await writeCachedAnswer(this.env.SEARCH_CACHE, key, answer);
    } catch (error) {
      log("warn", "rag.cache_write_failed", {
        ...logFieldsOf(tenant),
        reason: errorMessage(error),
      });
    }
  }

  /** Removes a replaced or deleted version's vectors; leftovers are never served, so failures only log. */
  async #removeVectors(
    tenant: TenantContext,
    docId: string,
    replaced: { version: number; chunkCount: number },
    current: { version: number; chunkCount: number } | null,
  ): Promise<void> {
    const backend = vectorBackendFor(this.env);
    try {
      await backend.remove(tenant.tenantId, docId, replaced, current);
    } catch (error) {
      log("warn", "rag.vectors_remove_failed", {
        ...logFieldsOf(tenant),
        docId,
        version: replaced.version,
        reason: errorMessage(error),
      });
    }
  }
}
