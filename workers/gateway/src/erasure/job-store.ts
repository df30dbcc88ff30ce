/**
 * The SQLite storage of one TenantErasure: a one-row `job` table (state, step, progress, retries,
 * the tenant config the job acts with), the counts erased so far per owner and store, and the
 * tenant's API key ids (read before the keys are deleted: the ratelimit step needs them to name
 * each key's own objects). Synchronous only (SqlStorage), so every method is atomic with respect
 * to the other calls the Durable Object receives; the job persists each step's progress here before
 * it takes the next, so a restarted object resumes where it stopped.
 */
import type { ErasureStep, StoreCounts, TenantConfig } from "@crispy/contracts";
import { ERASURE_STEPS } from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";

export type StoredState = "running" | "done" | "failed";

export interface StoredJob {
  tenantId: string;
  config: TenantConfig;
  requestId: string;
  traceId: string;
  state: StoredState;
  step: ErasureStep;
  /** The current step's own progress (keys: its phase; ratelimit: key ids done). */
  cursor: number;
  round: number;
  attempts: number;
  /** When the next attempt or wait ends (epoch ms), if one is scheduled. */
  nextAt: number | null;
  lastError: { step: ErasureStep; code: string; message: string; at: number } | null;
  remaining: Record<string, StoreCounts> | null;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

type JobRow = {
  tenant_id: string;
  config: string;
  request_id: string;
  trace_id: string;
  state: StoredState;
  step: string;
  cursor: number;
  round: number;
  attempts: number;
  next_at: number | null;
  last_error: string | null;
  remaining: string | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
};

export type JobUpdate = Partial<Omit<StoredJob, "tenantId" | "config" | "requestId" | "traceId" | "startedAt">>;

const COLUMN_OF: Record<keyof JobUpdate, string> = {
  state: "state",
  step: "step",
  cursor: "cursor",
  round: "round",
  attempts: "attempts",
  nextAt: "next_at",
  lastError: "last_error",
  remaining: "remaining",
  updatedAt: "updated_at",
  finishedAt: "finished_at",
};

function jobOf(row: JobRow): StoredJob {
  const step = ERASURE_STEPS.includes(row.step as ErasureStep) ? (row.step as ErasureStep) : "keys";
  return {
    tenantId: row.tenant_id,
    config: JSON.parse(row.config) as TenantConfig,
    requestId: row.request_id,
    traceId: row.trace_id,
    state: row.state,
    step,
    cursor: row.cursor,
    round: row.round,
    attempts: row.attempts,
    nextAt: row.next_at,
    lastError: row.last_error === null ? null : (JSON.parse(row.last_error) as StoredJob["lastError"]),
    remaining: row.remaining === null ? null : (JSON.parse(row.remaining) as StoredJob["remaining"]),
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

function columnValue(key: keyof JobUpdate, value: unknown): SqlStorageValue {
  if (key === "lastError" || key === "remaining") return value === null ? null : JSON.stringify(value);
  return value as SqlStorageValue;
}

export class ErasureJobStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    migrateSchema(storage, [
      `
        CREATE TABLE job (
          singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
          tenant_id TEXT NOT NULL,
          config TEXT NOT NULL,
          request_id TEXT NOT NULL,
          trace_id TEXT NOT NULL,
          state TEXT NOT NULL,
          step TEXT NOT NULL,
          cursor INTEGER NOT NULL,
          round INTEGER NOT NULL,
          attempts INTEGER NOT NULL,
          next_at INTEGER,
          last_error TEXT,
          remaining TEXT,
          started_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          finished_at INTEGER
        );
        CREATE TABLE erased (
          owner TEXT NOT NULL,
          store TEXT NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (owner, store)
        ) WITHOUT ROWID;
        CREATE TABLE key_ids (id TEXT PRIMARY KEY, position INTEGER NOT NULL UNIQUE);
      `,
    ]);
  }

  /** The job, or null before the first erasure of this tenant. */
  job(): StoredJob | null {
    const row = this.#sql.exec<JobRow>("SELECT * FROM job").toArray()[0];
    return row ? jobOf(row) : null;
  }

  /** A new job at its first step, replacing any earlier one (its counts and key ids too). */
  start(input: { config: TenantConfig; requestId: string; traceId: string }, now: number): StoredJob {
    this.#storage.transactionSync(() => {
      this.#sql.exec("DELETE FROM job");
      this.#sql.exec("DELETE FROM erased");
      this.#sql.exec("DELETE FROM key_ids");
      this.#sql.exec(
        `INSERT INTO job (singleton, tenant_id, config, request_id, trace_id, state, step, cursor, round,
           attempts, next_at, last_error, remaining, started_at, updated_at, finished_at)
         VALUES (1, ?, ?, ?, ?, 'running', ?, 0, 1, 0, ?, NULL, NULL, ?, ?, NULL)`,
        input.config.id,
        JSON.stringify(input.config),
        input.requestId,
        input.traceId,
        ERASURE_STEPS[0],
        now,
        now,
        now,
      );
    });
    return this.job()!;
  }

  /** Changes the given fields (and `updatedAt`, to now unless given). */
  update(update: JobUpdate, now = Date.now()): StoredJob {
    const entries = Object.entries({ updatedAt: now, ...update }) as Array<[keyof JobUpdate, unknown]>;
    this.#sql.exec(
      `UPDATE job SET ${entries.map(([key]) => `${COLUMN_OF[key]} = ?`).join(", ")}`,
      ...entries.map(([key, value]) => columnValue(key, value)),
    );
    return this.job()!;
  }

  /** Adds one call's counts to what `owner` erased so far. */
  addErased(owner: string, counts: StoreCounts): void {
    for (const [store, count] of Object.entries(counts)) {
      this.#sql.exec(
        `INSERT INTO erased (owner, store, count) VALUES (?, ?, ?)
         ON CONFLICT (owner, store) DO UPDATE SET count = count + excluded.count`,
        owner,
        store,
        count,
      );
    }
  }

  /** Everything erased so far, per owner and store. */
  erased(): Record<string, StoreCounts> {
    const out: Record<string, StoreCounts> = {};
    for (const row of this.#sql.exec<{ owner: string; store: string; count: number }>(
      "SELECT owner, store, count FROM erased ORDER BY owner, store",
    )) {
      const owned = out[row.owner] ?? {};
      owned[row.store] = row.count;
      out[row.owner] = owned;
    }
    return out;
  }

  /** Remembers key ids (again is harmless). */
  addKeyIds(ids: readonly string[]): void {
    for (const id of ids) {
      this.#sql.exec(
        "INSERT OR IGNORE INTO key_ids (id, position) VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM key_ids))",
        id,
      );
    }
  }

  /** Key ids `offset`… (at most `limit`), in the order they were found. */
  keyIds(offset: number, limit: number): string[] {
    return this.#sql
      .exec<{ id: string }>("SELECT id FROM key_ids ORDER BY position LIMIT ? OFFSET ?", limit, offset)
      .toArray()
      .map((row) => row.id);
  }

  keyIdCount(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_ids").one().n;
  }
}
