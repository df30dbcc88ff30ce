/**
 * TenantIndex Durable Object: one per tenant, named by the tenant id. A thin RPC shell over the
 * tenant's DocumentStore (documents, chunks, FTS5, embeddings, index version; document-store.ts)
 * and its Ranker (BM25 and vector rankings, in-memory embedding matrix; ranking.ts).
 *
 * Invariants:
 * - Only the current version of a document has chunks here: an upsert replaces the previous
 *   version's chunks in one transaction; one with the stored hash and version changes nothing (not
 *   even the index version); one with an older version is refused ("conflict").
 * - `index_version` grows with every change, so caches keyed by it (search answers) are
 *   invalidated by any upsert or delete.
 * - A retrieval reads both its rankings in one call (`rank`), so it never mixes two versions; the
 *   embedding matrix follows every committed change before the call returns.
 * - Nothing in a request can reach another tenant's index, which is another object.
 * - Tenant erasure (`erase`) deletes the whole storage at once; the instance goes on with an empty
 *   index (index version 0).
 */
import { DurableObject } from "cloudflare:workers";
import {
  ok,
  type DocumentRecord,
  type IndexedChunk,
  type Metadata,
  type Page,
  type RpcResult,
} from "@crispy/contracts";
import { configOf } from "./config";
import { type DeleteOutcome, type DocumentInput, DocumentStore, type UpsertOutcome } from "./document-store";
import { indexCounts } from "./erase";
import { Ranker, type RankRequest, type Rankings } from "./ranking";

export type { DocumentInput } from "./document-store";

export class TenantIndex extends DurableObject<RagEnv> {
  /** Replaced (empty) only by `erase`. */
  #store: DocumentStore;
  #ranker: Ranker;

  constructor(ctx: DurableObjectState, env: RagEnv) {
    super(ctx, env);
    this.#store = new DocumentStore(ctx.storage);
    this.#ranker = new Ranker(this.#store, configOf(env).VECTOR_MATRIX_MAX_BYTES);
  }

  /** Replaces the document's chunks with `chunks` (one transaction); a no-op for the same hash and version. */
  async upsert(
    doc: DocumentInput,
    chunks: IndexedChunk[],
    storeEmbeddings: boolean,
  ): Promise<RpcResult<UpsertOutcome>> {
    const committed = this.#store.upsert(doc, chunks, storeEmbeddings);
    if (!committed.ok) return committed;
    const { inserted, ...outcome } = committed.value;
    if (!outcome.unchanged) this.#ranker.followChange(outcome.indexVersion, doc.id, inserted);
    return ok(outcome);
  }

  /** Removes a document and all its chunks; null when the tenant has no such document. */
  async delete(docId: string): Promise<DeleteOutcome | null> {
    const outcome = this.#store.delete(docId);
    if (outcome) this.#ranker.followChange(outcome.indexVersion, docId, []);
    return outcome;
  }

  /** The document's record, or null when the tenant has no such document. */
  async get(docId: string): Promise<DocumentRecord | null> {
    return this.#store.get(docId);
  }

  /** One page of documents, most recently upserted first. */
  async list(page: { cursor?: string; limit: number }): Promise<RpcResult<Page<DocumentRecord>>> {
    return this.#store.list(page);
  }

  /** The BM25 and the vector ranking of one retrieval, from the same state of the index. */
  async rank(request: RankRequest): Promise<Rankings> {
    return this.#ranker.rank(request);
  }

  /** Ids of the documents a filter matches, or null when there are more than `limit`. */
  async matchingDocIds(filter: Metadata, limit: number): Promise<string[] | null> {
    return this.#store.matchingDocIds(filter, limit);
  }

  /** The index version: grows with every change to the tenant's documents. */
  async version(): Promise<number> {
    return this.#store.indexVersion();
  }

  /** Tenant erasure (erase.ts): how many documents and chunks the index holds. */
  async erasureCounts(): Promise<{ documents: number; chunks: number }> {
    return indexCounts(this.ctx.storage.sql);
  }

  /**
   * Tenant erasure: deletes the index's whole storage (documents, chunks, FTS, embeddings, index
   * version) and starts this instance over on an empty index; returns what it held.
   */
  async erase(): Promise<{ documents: number; chunks: number }> {
    const held = indexCounts(this.ctx.storage.sql);
    await this.ctx.storage.deleteAll();
    this.#store = new DocumentStore(this.ctx.storage);
    this.#ranker = new Ranker(this.#store, configOf(this.env).VECTOR_MATRIX_MAX_BYTES);
    return held;
  }
}
