/**
 * TenantIndex Durable Object: one per tenant, named by the tenant id. Owns the tenant's documents,
 * their chunks (text + provenance, and the embeddings when the durable-object vector backend is
 * used), an FTS5 index over chunk text for BM25, and the index version (schema: index-schema.ts).
 *
 * Invariants:
 * - Only the current version of a document has chunks here. An upsert replaces every chunk of the
 *   previous version with the new ones in one `transactionSync`, so a reader sees the old version
 *   or the new one, never a mix, and a replaced chunk is never served again.
 * - An upsert with the stored contentHash and version changes nothing (not even the index version);
 *   one with an older version than stored is refused ("conflict").
 * - `index_version` grows with every upsert that changed something and every delete, so caches
 *   keyed by it (search answers) are invalidated by any change to the tenant's documents.
 * - Filters and vector hits are resolved here against this tenant's rows only: nothing in a
 *   request can reach another tenant's index, which is another object.
 * - A retrieval reads both its rankings in one call (`rank`), so it never mixes two versions.
 * - Vector search runs over an in-memory VectorMatrix of the stored embeddings, kept in step with
 *   every upsert and delete and rebuilt from SQLite whenever its version differs from the stored
 *   index version (after an eviction, or a change it could not follow); an index too large for
 *   the matrix is scanned from SQLite instead.
 */
import { DurableObject } from "cloudflare:workers";
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
import { filterCondition, metadataValueText, type SqlCondition } from "./filter";
import { ftsMatchExpression } from "./fts-query";
import { SCHEMA_V1 } from "./index-schema";
import { TopK, cosine, embeddingBlob, embeddingOf, prepareQuery } from "./vectors/embedding";
import { DEFAULT_MATRIX_MAX_BYTES, VectorMatrix, type MatrixRow } from "./vectors/matrix";

/** A document as ingest hands it over; the index sets the chunk count and timestamps. */
export type DocumentInput = Omit<DocumentRecord, "chunkCount" | "createdAt" | "updatedAt">;

/** A chunk with the score of one ranking (BM25 as −bm25(), or cosine similarity); higher is better. */
export type RankedChunk = RetrievedChunk;

/** A chunk named by a vector store's match, to be resolved against the current index. */
export interface ChunkRef {
  docId: string;
  chunkId: string;
  version: number;
  score: number;
}

/**
 * What the index needs to rank by vector: the query vector (embeddings stored here), or the
 * matches an external vector store found, to be resolved against the current chunks.
 */
export type VectorProbe = { kind: "vector"; vector: number[] } | { kind: "matches"; refs: ChunkRef[] };

export interface RankRequest {
  /** Text for the BM25 ranking, or null for none. */
  query: string | null;
  /** Input of the vector ranking, or null for none. */
  probe: VectorProbe | null;
  k: number;
  filter?: Metadata;
}

/** Both rankings, read from the same state of the index. */
export interface Rankings {
  lexical: RankedChunk[];
  vector: RankedChunk[];
}

/** The version a change replaced or removed, so its vectors can be deleted elsewhere. */
export interface ReplacedVersion {
  version: number;
  chunkCount: number;
}

export interface UpsertOutcome {
  indexVersion: number;
  unchanged: boolean;
  previous: ReplacedVersion | null;
}

export interface DeleteOutcome {
  indexVersion: number;
  previous: ReplacedVersion;
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

type ChunkRow = {
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

const CHUNK_COLUMNS = `c.seq, c.chunk_id, c.doc_id, c.version, c.text, c.start_offset, c.end_offset,
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

function rankedOf(row: ChunkRow, score: number): RankedChunk {
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

export class TenantIndex extends DurableObject<RagEnv> {
  readonly #sql: SqlStorage;
  /** The durable-object backend's embeddings in memory; null until a vector query needs it. */
  #matrix: VectorMatrix | null = null;
  readonly #matrixMaxBytes: number;

  constructor(ctx: DurableObjectState, env: RagEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    const configured = Number(env.VECTOR_MATRIX_MAX_BYTES);
    this.#matrixMaxBytes = Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_MATRIX_MAX_BYTES;
    this.#migrate();
  }

  /** Replaces the document's chunks with `chunks` (one transaction); a no-op for the same hash and version. */
  async upsert(
    doc: DocumentInput,
    chunks: IndexedChunk[],
    storeEmbeddings: boolean,
  ): Promise<RpcResult<UpsertOutcome>> {
    const existing = this.#document(doc.id);
    if (existing && existing.content_hash === doc.contentHash && existing.version === doc.version) {
      return ok({ indexVersion: this.#indexVersion(), unchanged: true, previous: null });
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
    const indexVersion = this.ctx.storage.transactionSync(() => {
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
    this.#followChange(indexVersion, doc.id, inserted);
    return ok({
      indexVersion,
      unchanged: false,
      previous: existing ? { version: existing.version, chunkCount: existing.chunk_count } : null,
    });
  }

  /** Removes a document and all its chunks; null when the tenant has no such document. */
  async delete(docId: string): Promise<DeleteOutcome | null> {
    const existing = this.#document(docId);
    if (!existing) return null;
    const indexVersion = this.ctx.storage.transactionSync(() => {
      this.#deleteChunks(docId);
      this.#sql.exec("DELETE FROM document_metadata WHERE doc_id = ?", docId);
      this.#sql.exec("DELETE FROM documents WHERE id = ?", docId);
      return this.#bumpVersion();
    });
    this.#followChange(indexVersion, docId, []);
    return { indexVersion, previous: { version: existing.version, chunkCount: existing.chunk_count } };
  }

  /** The document's record, or null when the tenant has no such document. */
  async get(docId: string): Promise<DocumentRecord | null> {
    const row = this.#document(docId);
    return row ? recordOf(row) : null;
  }

  /** One page of documents, most recently upserted first. */
  async list(page: { cursor?: string; limit: number }): Promise<RpcResult<Page<DocumentRecord>>> {
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

  /**
   * The BM25 and the vector ranking of one retrieval. Synchronous inside, so both come from the
   * same state: a concurrent upsert commits before or after, and a retrieval never mixes versions.
   */
  async rank(request: RankRequest): Promise<Rankings> {
    const { query, probe, k, filter } = request;
    const lexical = query === null ? [] : this.#lexical(query, k, filter);
    let vector: RankedChunk[] = [];
    if (probe?.kind === "vector") vector = this.#vector(probe.vector, k, filter);
    else if (probe?.kind === "matches") vector = this.#hydrate(probe.refs, filter);
    return { lexical, vector };
  }

  /** The k best BM25 matches of the query's words (score = −bm25, higher is better). */
  async lexical(query: string, k: number, filter?: Metadata): Promise<RankedChunk[]> {
    return this.#lexical(query, k, filter);
  }

  /** The k chunks whose stored embeddings are most cosine-similar to `queryVector` (brute force). */
  async vector(queryVector: number[], k: number, filter?: Metadata): Promise<RankedChunk[]> {
    return this.#vector(queryVector, k, filter);
  }

  /** Ids of the documents a filter matches, or null when there are more than `limit`. */
  async matchingDocIds(filter: Metadata, limit: number): Promise<string[] | null> {
    const where: SqlCondition = filterCondition(filter);
    const ids = this.#sql
      .exec<{ id: string }>(`SELECT d.id FROM documents d WHERE ${where.sql} LIMIT ?`, ...where.params, limit + 1)
      .toArray()
      .map((row) => row.id);
    return ids.length > limit ? null : ids;
  }

  /** The index version: grows with every change to the tenant's documents. */
  async version(): Promise<number> {
    return this.#indexVersion();
  }

  #lexical(query: string, k: number, filter?: Metadata): RankedChunk[] {
    const match = ftsMatchExpression(query);
    if (match === null) return [];
    const where = filterCondition(filter);
    return this.#sql
      .exec<ChunkRow & { rank: number }>(
        `SELECT ${CHUNK_COLUMNS}, bm25(chunks_fts) AS rank
         FROM chunks_fts JOIN chunks c ON c.seq = chunks_fts.rowid JOIN documents d ON d.id = c.doc_id
         WHERE chunks_fts MATCH ? AND ${where.sql}
         ORDER BY rank LIMIT ?`,
        match,
        ...where.params,
        k,
      )
      .toArray()
      .map((row) => rankedOf(row, -row.rank));
  }

  #vector(queryVector: number[], k: number, filter?: Metadata): RankedChunk[] {
    const matrix = this.#currentMatrix(queryVector.length);
    if (matrix) {
      let allowed: Set<string> | null = null;
      if (filter && Object.keys(filter).length > 0) {
        const where = filterCondition(filter);
        allowed = new Set(
          this.#sql
            .exec<{ id: string }>(`SELECT d.id FROM documents d WHERE ${where.sql}`, ...where.params)
            .toArray()
            .map((row) => row.id),
        );
      }
      return matrix.nearest(queryVector, k, allowed).flatMap(({ seq, score }) => {
        const row = this.#chunkRow(seq);
        return row ? [rankedOf(row, score)] : [];
      });
    }
    return this.#scanVectors(queryVector, k, filter);
  }

  /** The matrix for the current index version, (re)built when needed; null when too large. */
  #currentMatrix(dimensions: number): VectorMatrix | null {
    const version = this.#indexVersion();
    if (this.#matrix && this.#matrix.version === version && this.#matrix.dimensions === dimensions) return this.#matrix;
    this.#matrix = null;
    const { count } = this.#sql
      .exec<{ count: number }>("SELECT COUNT(*) AS count FROM chunks WHERE embedding IS NOT NULL")
      .one();
    if (!VectorMatrix.fits(count, dimensions, this.#matrixMaxBytes)) return null;
    const rows = this.#sql.exec<{ seq: number; doc_id: string; embedding: ArrayBuffer }>(
      "SELECT seq, doc_id, embedding FROM chunks WHERE embedding IS NOT NULL ORDER BY seq",
    );
    const matrixRows = (function* () {
      for (const row of rows) yield { seq: row.seq, docId: row.doc_id, embedding: row.embedding };
    })();
    this.#matrix = VectorMatrix.build(dimensions, version, matrixRows, count, this.#matrixMaxBytes);
    return this.#matrix;
  }

  /** Applies a committed change (version `indexVersion`) to the matrix, or drops it to be rebuilt. */
  #followChange(indexVersion: number, docId: string, inserted: MatrixRow[]): void {
    const matrix = this.#matrix;
    if (!matrix) return;
    if (matrix.version !== indexVersion - 1) {
      this.#matrix = null;
      return;
    }
    matrix.removeDocument(docId);
    if (!matrix.append(inserted)) {
      this.#matrix = null;
      return;
    }
    matrix.version = indexVersion;
  }

  #chunkRow(seq: number): ChunkRow | undefined {
    return this.#sql
      .exec<ChunkRow>(`SELECT ${CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.seq = ?`, seq)
      .toArray()[0];
  }

  /** Vector search without the matrix: every stored embedding read from SQLite. */
  #scanVectors(queryVector: number[], k: number, filter?: Metadata): RankedChunk[] {
    const query = prepareQuery(queryVector);
    const where = filterCondition(filter);
    const best = new TopK<number>(k);
    const rows = this.#sql.exec<{ seq: number; embedding: ArrayBuffer }>(
      `SELECT c.seq, c.embedding FROM chunks c JOIN documents d ON d.id = c.doc_id
       WHERE c.embedding IS NOT NULL AND ${where.sql}`,
      ...where.params,
    );
    for (const row of rows) best.offer(row.seq, cosine(query, embeddingOf(row.embedding)));
    return best.best().flatMap(({ item: seq, score }) => {
      const row = this.#chunkRow(seq);
      return row ? [rankedOf(row, score)] : [];
    });
  }

  /** The current chunks named by vector-store matches, in their order; stale or filtered-out ones dropped. */
  #hydrate(refs: ChunkRef[], filter?: Metadata): RankedChunk[] {
    const where = filterCondition(filter);
    return refs.flatMap((ref) => {
      const row = this.#sql
        .exec<ChunkRow>(
          `SELECT ${CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id
           WHERE c.doc_id = ? AND c.chunk_id = ? AND c.version = ? AND ${where.sql}`,
          ref.docId,
          ref.chunkId,
          ref.version,
          ...where.params,
        )
        .toArray()[0];
      return row ? [rankedOf(row, ref.score)] : [];
    });
  }

  #migrate(): void {
    migrateSchema(this.ctx.storage, [SCHEMA_V1]);
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

  #indexVersion(): number {
    return this.#sql.exec<{ value: number }>("SELECT value FROM counters WHERE name = 'index_version'").one().value;
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
