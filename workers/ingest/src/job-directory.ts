/**
 * JobDirectory Durable Object: one per tenant, named by the tenant id — the ingest jobs that exist
 * (an id and when it was made). A job is looked up here first, so asking for an id nobody made
 * never touches, and so never creates, an IngestJob object: an unknown id costs no storage.
 *
 * Invariants: a job is added before its IngestJob is created and removed when the job deletes
 * itself at the end of its retention, or once tenant erasure erased its object (erase.ts); only this
 * worker's entrypoint and IngestJobs write here.
 */
import { DurableObject } from "cloudflare:workers";
import { migrateSchema } from "@crispy/storage";

export class JobDirectory extends DurableObject<IngestEnv> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: IngestEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#migrate();
  }

  /** Records that job `jobId` exists. */
  async add(jobId: string): Promise<void> {
    this.#sql.exec("INSERT OR IGNORE INTO jobs (id, created_at) VALUES (?, ?)", jobId, Date.now());
  }

  /** Whether job `jobId` exists. */
  async has(jobId: string): Promise<boolean> {
    return this.#sql.exec("SELECT 1 FROM jobs WHERE id = ?", jobId).toArray().length > 0;
  }

  /** Forgets job `jobId` (it deleted itself). */
  async remove(jobId: string): Promise<void> {
    this.#sql.exec("DELETE FROM jobs WHERE id = ?", jobId);
  }

  /** Erasure (erase.ts): the ids of up to `limit` jobs, oldest first. */
  async oldest(limit: number): Promise<string[]> {
    return this.#sql
      .exec<{ id: string }>("SELECT id FROM jobs ORDER BY created_at, id LIMIT ?", limit)
      .toArray()
      .map((row) => row.id);
  }

  /** Erasure: forgets jobs whose objects are already erased. */
  async removeMany(jobIds: string[]): Promise<void> {
    for (const id of jobIds) this.#sql.exec("DELETE FROM jobs WHERE id = ?", id);
  }

  /** Erasure: how many jobs are listed. */
  async size(): Promise<number> {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs").one().n;
  }

  /** Erasure: deletes the directory's whole storage if it lists no job; false (nothing deleted) if it does. */
  async eraseIfEmpty(): Promise<boolean> {
    if ((await this.size()) > 0) return false;
    await this.ctx.storage.deleteAll();
    // The table again, empty, so this instance keeps working (a tenant id used again starts empty).
    this.#migrate();
    return true;
  }

  #migrate(): void {
    migrateSchema(this.ctx.storage, ["CREATE TABLE jobs (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"]);
  }
}
