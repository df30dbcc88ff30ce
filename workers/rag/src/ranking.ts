/**
 * The two rankings of a retrieval over one TenantIndex's store: BM25 over the FTS5 index, and
 * cosine similarity over the stored embeddings (durable-object backend) or the matches an external
 * vector store found (resolved against the current chunks).
 *
 * Invariants:
 * - Both rankings of one `rank` call are read synchronously from the same state, so a concurrent
 *   upsert commits before or after and a retrieval never mixes two versions of a document.
 * - Vector search runs over an in-memory VectorMatrix of the stored embeddings, kept in step with
 *   every committed change (`followChange`) and rebuilt from SQLite whenever its version differs
 *   from the stored index version (after an eviction, or a change it could not follow); an index
 *   too large for the matrix (`matrixMaxBytes`) is scanned from SQLite instead.
 * - Stale vector matches (a replaced version, a deleted document) and filtered-out chunks are dropped.
 */
import type { Metadata, RetrievedChunk } from "@crispy/contracts";
import { type ChunkRow, CHUNK_COLUMNS, type DocumentStore, retrievedOf } from "./document-store";
import { filterCondition } from "./filter";
import { ftsMatchExpression } from "./fts-query";
import { TopK, cosine, embeddingOf, prepareQuery } from "./vectors/embedding";
import { type MatrixRow, VectorMatrix } from "./vectors/matrix";
import type { ChunkRef, VectorProbe } from "./vectors/types";

export interface RankRequest {
  /** Text for the BM25 ranking, or null for none. */
  query: string | null;
  /** Input of the vector ranking, or null for none. */
  probe: VectorProbe | null;
  k: number;
  filter?: Metadata;
}

/** Both rankings, read from the same state of the index; scores: −bm25() and cosine similarity. */
export interface Rankings {
  lexical: RetrievedChunk[];
  vector: RetrievedChunk[];
}

export class Ranker {
  readonly #store: DocumentStore;
  readonly #matrixMaxBytes: number;
  /** The durable-object backend's embeddings in memory; null until a vector query needs it. */
  #matrix: VectorMatrix | null = null;

  constructor(store: DocumentStore, matrixMaxBytes: number) {
    this.#store = store;
    this.#matrixMaxBytes = matrixMaxBytes;
  }

  rank(request: RankRequest): Rankings {
    const { query, probe, k, filter } = request;
    const lexical = query === null ? [] : this.#lexical(query, k, filter);
    let vector: RetrievedChunk[] = [];
    if (probe?.kind === "vector") vector = this.#vector(probe.vector, k, filter);
    else if (probe?.kind === "matches") vector = this.#hydrate(probe.refs, filter);
    return { lexical, vector };
  }

  /** Applies a committed change (version `indexVersion`) to the matrix, or drops it to be rebuilt. */
  followChange(indexVersion: number, docId: string, inserted: MatrixRow[]): void {
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

  /** The k best BM25 matches of the query's words (score = −bm25, higher is better). */
  #lexical(query: string, k: number, filter?: Metadata): RetrievedChunk[] {
    const match = ftsMatchExpression(query);
    if (match === null) return [];
    const where = filterCondition(filter);
    return this.#store
      .query<ChunkRow & { rank: number }>(
        `SELECT ${CHUNK_COLUMNS}, bm25(chunks_fts) AS rank
         FROM chunks_fts JOIN chunks c ON c.seq = chunks_fts.rowid JOIN documents d ON d.id = c.doc_id
         WHERE chunks_fts MATCH ? AND ${where.sql}
         ORDER BY rank LIMIT ?`,
        match,
        ...where.params,
        k,
      )
      .toArray()
      .map((row) => retrievedOf(row, -row.rank));
  }

  /** The k chunks whose stored embeddings are most cosine-similar to `queryVector` (brute force). */
  #vector(queryVector: number[], k: number, filter?: Metadata): RetrievedChunk[] {
    const matrix = this.#currentMatrix(queryVector.length);
    if (!matrix) return this.#scanVectors(queryVector, k, filter);
    const allowed = filter && Object.keys(filter).length > 0 ? new Set(this.#store.matchingDocIds(filter)) : null;
    return matrix.nearest(queryVector, k, allowed).flatMap(({ seq, score }) => {
      const row = this.#store.chunk(seq);
      return row ? [retrievedOf(row, score)] : [];
    });
  }

  /** The matrix for the current index version, (re)built when needed; null when too large. */
  #currentMatrix(dimensions: number): VectorMatrix | null {
    const version = this.#store.indexVersion();
    if (this.#matrix && this.#matrix.version === version && this.#matrix.dimensions === dimensions) return this.#matrix;
    this.#matrix = null;
    const { count } = this.#store
      .query<{ count: number }>("SELECT COUNT(*) AS count FROM chunks WHERE embedding IS NOT NULL")
      .one();
    if (!VectorMatrix.fits(count, dimensions, this.#matrixMaxBytes)) return null;
    const rows = this.#store.query<{ seq: number; doc_id: string; embedding: ArrayBuffer }>(
      "SELECT seq, doc_id, embedding FROM chunks WHERE embedding IS NOT NULL ORDER BY seq",
    );
    const matrixRows = (function* () {
      for (const row of rows) yield { seq: row.seq, docId: row.doc_id, embedding: row.embedding };
    })();
    this.#matrix = VectorMatrix.build(dimensions, version, matrixRows, count, this.#matrixMaxBytes);
    return this.#matrix;
  }

  /** Vector search without the matrix: every stored embedding read from SQLite. */
  #scanVectors(queryVector: number[], k: number, filter?: Metadata): RetrievedChunk[] {
    const query = prepareQuery(queryVector);
    const where = filterCondition(filter);
    const best = new TopK<number>(k);
    const rows = this.#store.query<{ seq: number; embedding: ArrayBuffer }>(
      `SELECT c.seq, c.embedding FROM chunks c JOIN documents d ON d.id = c.doc_id
       WHERE c.embedding IS NOT NULL AND ${where.sql}`,
      ...where.params,
    );
    for (const row of rows) best.offer(row.seq, cosine(query, embeddingOf(row.embedding)));
    return best.best().flatMap(({ item: seq, score }) => {
      const row = this.#store.chunk(seq);
      return row ? [retrievedOf(row, score)] : [];
    });
  }

  /** The current chunks named by vector-store matches, in their order; stale or filtered-out ones dropped. */
  #hydrate(refs: ChunkRef[], filter?: Metadata): RetrievedChunk[] {
    const where = filterCondition(filter);
    return refs.flatMap((ref) => {
      const row = this.#store
        .query<ChunkRow>(
          `SELECT ${CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id
           WHERE c.doc_id = ? AND c.chunk_id = ? AND c.version = ? AND ${where.sql}`,
          ref.docId,
          ref.chunkId,
          ref.version,
          ...where.params,
        )
        .toArray()[0];
      return row ? [retrievedOf(row, ref.score)] : [];
    });
  }
}
