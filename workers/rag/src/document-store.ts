/**
 * The SQLite storage of one TenantIndex (schema: index-schema.ts): documents, their metadata rows,
 * the current version's chunks with provenance (and embeddings for the durable-object backend),
 * the FTS5 rows kept in step with the chunks, and the index version. Synchronous only
 * (SqlStorage), so each method is atomic with respect to the other calls the object receives.
 *
 * Invariants:
 * - Only the current version of a document has chunks. `upsert` replaces every chunk of the
 *   previous version with the new ones in one `transactionSync`, together with the FTS rows and the
 *   version bump, so a reader sees the old version or the new one, never a mix.
 * - `index_version` grows with every upsert that changed something and every delete.
 * - Filters are resolved against this tenant's rows only.
 */
import {
  decodeCursor,
  encodeCursor,
  fail,
  ok,
  type ChunkProvenance,
  type DocumentRecord,
  type IndexedChunk,
  type Metadata,
  type Page,
  type RetrievedChunk,
  type RpcResult,
} from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";
import { filterCondition, metadataValueText } from "./filter";
import { SCHEMA_V1 } from "./index-schema";
import { embeddingBlob } from "./vectors/embedding";
import type { MatrixRow } from "./vectors/matrix";
import type { ReplacedVersion } from "./vectors/types";

/** A document as ingest hands it over; the index sets the chunk count and timestamps. */
export type DocumentInput = Omit<DocumentRecord, "chunkCount" | "createdAt" | "updatedAt">;

export interface UpsertOutcome {
  indexVersion: number;
  unchanged: boolean;
  previous: ReplacedVersion | null;
}

export interface DeleteOutcome {
  indexVersion: number;
  previous: ReplacedVersion;
}

/** A committed upsert, with the embeddings it stored (for the in-memory matrix to follow). */
export interface Committed extends UpsertOutcome {
  inserted: MatrixRow[];
}

type DocumentRow = {
  id: string;
  title: string;
  source: string | null;
  url: string | null;
  metadata: string;
  content_hash: string;
  version: number;
  chunk_count: number;
  content_type: string;
  bytes: number;
  created_at: number;
  updated_at: number;
  position: number;
};

/** A chunk row joined with its document's title and url. */
export type ChunkRow = {
  seq: number;
  chunk_id: string;
  doc_id: string;
  version: number;
  text: string;
  start_offset: number;
  end_offset: number;
  heading_path: string;
  page: number | null;
  title: string;
  url: string | null;
};

/** The columns of a ChunkRow, for `FROM chunks c JOIN documents d ON d.id = c.doc_id`. */
export const CHUNK_COLUMNS = `c.seq, c.chunk_id, c.doc_id, c.version, c.text, c.start_offset, c.end_offset,
  c.heading_path, c.page, d.title, d.url`;

function recordOf(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    title: row.title,
    source: row.source,
    url: row.url,
    metadata: JSON.parse(row.metadata) as Metadata,
    contentHash: row.content_hash,
    version: row.version,
    chunkCount: row.chunk_count,
    contentType: row.content_type,
    bytes: row.bytes,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** A chunk row as a retrieved chunk with the score of one ranking (higher is better). */
export function retrievedOf(row: ChunkRow, score: number): RetrievedChunk {
  const provenance: ChunkProvenance = {
    docId: row.doc_id,
    version: row.version,
    start: row.start_offset,
    end: row.end_offset,
    headingPath: JSON.parse(row.heading_path) as string[],
    page: row.page,
  };
  return {
    chunkId: row.chunk_id,
    docId: row.doc_id,
    title: row.title,
    url: row.url,
    text: row.text,
    provenance,
    score,
  };
}

export class DocumentStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    migrateSchema(storage, [SCHEMA_V1]);
  }

  /**
   * Replaces the document's chunks with `chunks` in one transaction; a no-op for the same hash
   * and version, a "conflict" for an older version than stored.
   */
  upsert(doc: DocumentInput, chunks: IndexedChunk[], storeEmbeddings: boolean): RpcResult<Committed> {
    const existing = this.#document(doc.id);
    if (existing && existing.content_hash === doc.contentHash && existing.version === doc.version) {
      return ok({ indexVersion: this.indexVersion(), unchanged: true, previous: null, inserted: [] });
    }
    if (existing && doc.version < existing.version) {
      return fail(
        "conflict",
        `document "${doc.id}" is at version ${existing.version}; version ${doc.version} is older`,
        { storedVersion: existing.version },
      );
    }
    const now = Date.now();
    const inserted: MatrixRow[] = [];
    const indexVersion = this.#storage.transactionSync(() => {
      if (existing) this.#deleteChunks(doc.id);
      this.#sql.exec("DELETE FROM documents WHERE id = ?", doc.id);
      this.#sql.exec(
        `INSERT INTO documents (id, title, source, url, metadata, content_hash, version, chunk_count,
           content_type, bytes, created_at, updated_at, position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        doc.id,
        doc.title,
        doc.source,
        doc.url,
        JSON.stringify(doc.metadata),
        doc.contentHash,
        doc.version,
        chunks.length,
        doc.contentType,
        doc.bytes,
        existing?.created_at ?? now,
        now,
        this.#nextPosition(),
      );
      this.#sql.exec("DELETE FROM document_metadata WHERE doc_id = ?", doc.id);
      for (const [key, value] of Object.entries(doc.metadata)) {
        this.#sql.exec(
          "INSERT INTO document_metadata (doc_id, key, value) VALUES (?, ?, ?)",
          doc.id,
          key,
          metadataValueText(value),
        );
      }
      chunks.forEach((chunk, ordinal) => {
        const seq = this.#insertChunk(doc.id, doc.version, ordinal, chunk, storeEmbeddings);
        if (storeEmbeddings) inserted.push({ seq, docId: doc.id, embedding: chunk.vector });
      });
      return this.#bumpVersion();
    });
    const previous = existing ? { version: existing.version, chunkCount: existing.chunk_count } : null;
    return ok({ indexVersion, unchanged: false, previous, inserted });
  }

  /** Removes a document and all its chunks; null when the tenant has no such document. */
  delete(docId: string): DeleteOutcome | null {
    const existing = this.#document(docId);
    if (!existing) return null;
    const indexVersion = this.#storage.transactionSync(() => {
      this.#deleteChunks(docId);
      this.#sql.exec("DELETE FROM document_metadata WHERE doc_id = ?", docId);
      this.#sql.exec("DELETE FROM documents WHERE id = ?", docId);
      return this.#bumpVersion();
    });
    return { indexVersion, previous: { version: existing.version, chunkCount: existing.chunk_count } };
  }

  /** The document's record, or null when the tenant has no such document. */
  get(docId: string): DocumentRecord | null {
    const row = this.#document(docId);
    return row ? recordOf(row) : null;
  }

  /** One page of documents, most recently upserted first. */
  list(page: { cursor?: string; limit: number }): RpcResult<Page<DocumentRecord>> {
    let before = Number.MAX_SAFE_INTEGER;
    if (page.cursor !== undefined) {
      const position = decodeCursor("docs", page.cursor);
      if (position === null) return fail("bad_request", "cursor is not a document-list cursor");
      before = position;
    }
    const rows = this.#sql
      .exec<DocumentRow>(
        "SELECT * FROM documents WHERE position < ? ORDER BY position DESC LIMIT ?",
        before,
        page.limit + 1,
      )
      .toArray();
    const items = rows.slice(0, page.limit);
    return ok({
      items: items.map(recordOf),
      nextCursor: rows.length > page.limit ? encodeCursor("docs", items.at(-1)!.position) : null,
    });
  }

  /** Ids of the documents `filter` matches, or null when there are more than `limit` (no limit: all). */
  matchingDocIds(filter: Metadata, limit?: number): string[] | null {
    const where = filterCondition(filter);
    const params = limit === undefined ? where.params : [...where.params, limit + 1];
    const ids = this.#sql
      .exec<{ id: string }>(
        `SELECT d.id FROM documents d WHERE ${where.sql}${limit === undefined ? "" : " LIMIT ?"}`,
        ...params,
      )
      .toArray()
      .map((row) => row.id);
    return limit !== undefined && ids.length > limit ? null : ids;
  }

  /** One chunk (with its document's title and url) by seq, if it still exists. */
  chunk(seq: number): ChunkRow | undefined {
    return this.#sql
      .exec<ChunkRow>(`SELECT ${CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.seq = ?`, seq)
      .toArray()[0];
  }

  /** Rows of a query over the chunks, for the rankings. */
  query<T extends Record<string, SqlStorageValue>>(sql: string, ...params: SqlStorageValue[]): SqlStorageCursor<T> {
    return this.#sql.exec<T>(sql, ...params);
  }

  /** The index version: grows with every change to the tenant's documents. */
  indexVersion(): number {
    return this.#sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = 'index_version'").one().value;
  }

  #document(docId: string): DocumentRow | undefined {
    return this.#sql.exec<DocumentRow>("SELECT * FROM documents WHERE id = ?", docId).toArray()[0];
  }

  /** Inserts one chunk and its FTS entry; returns its seq. */
  #insertChunk(docId: string, version: number, ordinal: number, chunk: IndexedChunk, storeEmbedding: boolean): number {
    const { provenance } = chunk;
    const { seq } = this.#sql
      .exec<{ seq: number }>(
        `INSERT INTO chunks (chunk_id, doc_id, version, ordinal, text, start_offset, end_offset,
           heading_path, page, tokens, embedding)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
        chunk.chunkId,
        docId,
        version,
        ordinal,
        chunk.text,
        provenance.start,
        provenance.end,
        JSON.stringify(provenance.headingPath),
        provenance.page,
        chunk.tokens,
        storeEmbedding ? embeddingBlob(chunk.vector) : null,
      )
      .one();
    this.#sql.exec("INSERT INTO chunks_fts (rowid, text) VALUES (?, ?)", seq, chunk.text);
    return seq;
  }

  /** Deletes a document's chunks and their FTS entries (external content needs the old text). */
  #deleteChunks(docId: string): void {
    const rows = this.#sql.exec<{ seq: number; text: string }>("SELECT seq, text FROM chunks WHERE doc_id = ?", docId);
    for (const row of rows.toArray()) {
      this.#sql.exec("INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', ?, ?)", row.seq, row.text);
    }
    this.#sql.exec("DELETE FROM chunks WHERE doc_id = ?", docId);
  }

  #bumpVersion(): number {
    return this.#sql
      .exec<{ value: number }>("UPDATE counters SET value = value + 1 WHERE name = 'index_version' RETURNING value")
      .one().value;
  }

  #nextPosition(): number {
    return this.#sql.exec<{ next: number }>("SELECT COALESCE(MAX(position), 0) + 1 AS next FROM documents").one().next;
  }
}
