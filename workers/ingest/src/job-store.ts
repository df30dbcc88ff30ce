/**
 * The SQLite storage of one IngestJob: a one-row `job` table (state, step, progress, attempts,
 * error, and the plan the pipeline runs) and the job's `chunks` with their embeddings once
 * computed. Synchronous only (SqlStorage), so every method is atomic with respect to the other
 * calls the Durable Object receives.
 *
 * Invariants:
 * - `chunks_total` is the number of rows in `chunks` once chunking is done; `chunks_done` is the
 *   number of those with a vector. Both change in the same transaction as the rows.
 * - Chunk rows exist only while the job runs: they are dropped when it ends either way, so a
 *   finished job keeps only its small status row.
 */
import type { IndexedChunk, IngestJob as JobStatus, IngestJobState, TenantContext } from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";
import type { DocumentChunk } from "./chunk";
import type { NewDocument } from "./document-index";
import type { DocumentKind } from "./parse";

export type JobStep = NonNullable<JobStatus["step"]>;

/** Everything the pipeline needs to run the job, fixed when the job is created. */
export interface JobPlan {
  /** The caller's context: the job acts for this tenant and request. */
  tenant: TenantContext;
  /** The raw file in R2 (absent for a job that was "unchanged" from the start). */
  rawKey: string | null;
  kind: DocumentKind;
  document: NewDocument;
}

export interface NewJob {
  jobId: string;
  state: Extract<IngestJobState, "queued" | "unchanged">;
  plan: JobPlan;
}

type JobRow = {
  id: string;
  doc_id: string;
  version: number;
  state: IngestJobState;
  step: JobStep | null;
  chunks_done: number;
  chunks_total: number;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  plan: string;
  created_at: number;
  updated_at: number;
};

type ChunkRow = {
  seq: number;
  chunk_id: string;
  text: string;
  tokens: number;
  start_offset: number;
  end_offset: number;
  heading_path: string;
  page: number | null;
  vector: ArrayBuffer | null;
};

export interface JobUpdate {
  state?: IngestJobState;
  step?: JobStep | null;
  attempts?: number;
  error?: { code: string; message: string } | null;
}

/** A chunk waiting for its embedding. */
export interface PendingChunk {
  seq: number;
  text: string;
  headingPath: string[];
}

export class JobStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    this.migrate();
  }

  /** Creates the tables when missing (on construction, and again after the storage was wiped). */
  migrate(): void {
    migrateSchema(this.#storage, [
      `
        CREATE TABLE job (
          id TEXT PRIMARY KEY,
          doc_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          state TEXT NOT NULL,
          step TEXT,
          chunks_done INTEGER NOT NULL DEFAULT 0,
          chunks_total INTEGER NOT NULL DEFAULT 0,
          error_code TEXT,
          error_message TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          plan TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE chunks (
          seq INTEGER PRIMARY KEY,
          chunk_id TEXT NOT NULL,
          text TEXT NOT NULL,
          tokens INTEGER NOT NULL,
          start_offset INTEGER NOT NULL,
          end_offset INTEGER NOT NULL,
          heading_path TEXT NOT NULL,
          page INTEGER,
          vector BLOB
        );
      `,
    ]);
  }

  /** Records a new job; returns false when this object already holds one. */
  create(job: NewJob): boolean {
    if (this.#row()) return false;
    const now = Date.now();
    this.#sql.exec(
      `INSERT INTO job (id, doc_id, version, state, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      job.jobId,
      job.plan.document.id,
      job.plan.document.version,
      job.state,
      JSON.stringify(job.plan),
      now,
      now,
    );
    return true;
  }

  /** The job's status as the RPC contract reports it, or null when this object holds no job. */
  status(): JobStatus | null {
    const row = this.#row();
    return row ? statusOf(row) : null;
  }

  plan(): JobPlan | null {
    const row = this.#row();
    return row ? (JSON.parse(row.plan) as JobPlan) : null;
  }

  attempts(): number {
    return this.#row()?.attempts ?? 0;
  }

  update(update: JobUpdate): void {
    const row = this.#row();
    if (!row) return;
    const error = update.error === undefined ? { code: row.error_code, message: row.error_message } : update.error;
    this.#sql.exec(
      `UPDATE job SET state = ?, step = ?, attempts = ?, error_code = ?, error_message = ?, updated_at = ?`,
      update.state ?? row.state,
      update.step === undefined ? row.step : update.step,
      update.attempts ?? row.attempts,
      error?.code ?? null,
      error?.message ?? null,
      Date.now(),
    );
  }

  /** Whether the document has been chunked (its chunks stored) already. */
  chunked(): boolean {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM chunks").one().n > 0;
  }

  /** Stores the document's chunks (replacing any) and resets progress to 0 of their number. */
  saveChunks(chunks: readonly DocumentChunk[]): void {
    this.#storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM chunks");
      for (const chunk of chunks) {
        const { start, end, headingPath, page } = chunk.provenance;
        this.#sql.exec(
          `INSERT INTO chunks (seq, chunk_id, text, tokens, start_offset, end_offset, heading_path, page)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          chunk.seq,
          chunk.chunkId,
          chunk.text,
          chunk.tokens,
          start,
          end,
          JSON.stringify(headingPath),
          page,
        );
      }
      this.#sql.exec("UPDATE job SET chunks_total = ?, chunks_done = 0, updated_at = ?", chunks.length, Date.now());
    });
  }

  /** The next chunks without an embedding, in document order. */
  pendingChunks(limit: number): PendingChunk[] {
    return this.#sql
      .exec<Pick<ChunkRow, "seq" | "text" | "heading_path">>(
        "SELECT seq, text, heading_path FROM chunks WHERE vector IS NULL ORDER BY seq LIMIT ?",
        limit,
      )
      .toArray()
      .map((row) => ({ seq: row.seq, text: row.text, headingPath: JSON.parse(row.heading_path) as string[] }));
  }

  /** Stores embeddings (as float32) for chunks by seq and advances `chunks_done` with them. */
  saveVectors(vectors: ReadonlyArray<{ seq: number; vector: readonly number[] }>): void {
    this.#storage.transactionSync(() => {
      for (const { seq, vector } of vectors) {
        this.#sql.exec("UPDATE chunks SET vector = ? WHERE seq = ?", new Float32Array(vector).buffer, seq);
      }
      this.#sql.exec(
        "UPDATE job SET chunks_done = (SELECT COUNT(*) FROM chunks WHERE vector IS NOT NULL), updated_at = ?",
        Date.now(),
      );
    });
  }

  /** Every chunk with its embedding, in document order, as rag receives them. */
  indexedChunks(docId: string, version: number): IndexedChunk[] {
    return this.#sql
      .exec<ChunkRow>("SELECT * FROM chunks WHERE vector IS NOT NULL ORDER BY seq")
      .toArray()
      .map((row) => ({
        chunkId: row.chunk_id,
        text: row.text,
        tokens: row.tokens,
        provenance: {
          docId,
          version,
          start: row.start_offset,
          end: row.end_offset,
          headingPath: JSON.parse(row.heading_path) as string[],
          page: row.page,
        },
        vector: Array.from(new Float32Array(row.vector!)),
      }));
  }

  /** Drops the chunk rows (texts and vectors); the progress counters keep their last values. */
  dropChunks(): void {
    this.#sql.exec("DELETE FROM chunks");
  }

  #row(): JobRow | undefined {
    return this.#sql.exec<JobRow>("SELECT * FROM job LIMIT 1").toArray()[0];
  }
}

function statusOf(row: JobRow): JobStatus {
  return {
    id: row.id,
    docId: row.doc_id,
    state: row.state,
    step: row.step,
    chunksDone: row.chunks_done,
    chunksTotal: row.chunks_total,
    version: row.version,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
