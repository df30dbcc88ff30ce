/**
 * IngestJob Durable Object: one per tenant + job, named `${tenantId}:${jobId}`. Its SQLite
 * storage is the job (status, plan, chunks in progress; job-store.ts) and its alarm drives the
 * pipeline (pipeline.ts), so a job runs in the background after the RPC that started it returned,
 * survives eviction and restarts, and retries on its own.
 *
 * Why a Durable Object with an alarm rather than Queues or Workflows: the job's state *is* its
 * status (no second store to keep in step), it runs for real in local workerd (`pnpm dev`, tests)
 * with nothing to provision, an alarm re-armed with a delay is a durable retry with backoff, and
 * a per-job object gives tenant isolation by name.
 *
 * Lifecycle: queued → running (step parse → chunk → embed → index) → done | failed; or unchanged
 * from the start when rag already holds the same content.
 *
 * Invariants:
 * - At most MAX_ATTEMPTS runs. A retryable failure re-arms the alarm after an exponential backoff
 *   with jitter (INGEST_RETRY_BASE_MS, doubling); the last failure, or any permanent one, ends the
 *   job "failed" with the error. While running, the alarm is kept LEASE_MS ahead as a watchdog:
 *   if the object is evicted mid-run, it fires and the run resumes from the persisted progress.
 * - A failed job deletes its raw file unless it may have reached rag (failure at the index step).
 * - A finished job keeps its status row for JOB_RETENTION_MS, then deletes itself.
 * - Tenant erasure deletes the object's storage and alarm at once (`erase`); a run in progress
 *   then stops at its next step and records nothing.
 */
import { DurableObject } from "cloudflare:workers";
import { createAi, providerFromEnv, type ResilientAi } from "@crispy/ai";
import type { IngestJob as JobStatus, IngestJobState } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage, stubFor } from "@crispy/worker-kit";
import { configOf } from "./config";
import { ragIndex, type DocumentIndex } from "./document-index";
import { JobStore, type NewJob } from "./job-store";
import { JobFailure, runPipeline } from "./pipeline";
import { deleteRawFiles } from "./raw-files";

export const MAX_ATTEMPTS = 3;
const LEASE_MS = 5 * 60_000;
const JOB_RETENTION_MS = 7 * 86_400_000;

const TERMINAL: ReadonlySet<IngestJobState> = new Set(["done", "failed", "unchanged"]);

export function isTerminal(state: IngestJobState): boolean {
  return TERMINAL.has(state);
}

export class IngestJob extends DurableObject<IngestEnv> {
  readonly #store: JobStore;
  readonly #ai: ResilientAi;
  readonly #index: DocumentIndex;
  readonly #retryBaseMs: number;
  /** Callers of `settle` waiting for the job to end. */
  readonly #waiters = new Set<() => void>();
  #running = false;
  /** Set once the finished job deleted its storage: the object holds no job any more. */
  #deleted = false;

  constructor(ctx: DurableObjectState, env: IngestEnv) {
    super(ctx, env);
    this.#store = new JobStore(ctx.storage);
    // One quick retry per embedding call for blips; the job's own attempts handle real outages.
    this.#ai = createAi(providerFromEnv(env, "ingest"), { retries: 1 });
    this.#index = ragIndex(env);
    this.#retryBaseMs = configOf(env).INGEST_RETRY_BASE_MS;
  }

  /** Records the job and, unless it is already "unchanged", schedules its first run at once. */
  async create(job: NewJob): Promise<JobStatus> {
    if (this.#deleted) {
      this.#store.migrate();
      this.#deleted = false;
    }
    if (this.#store.create(job)) {
      await this.ctx.storage.setAlarm(Date.now() + (job.state === "queued" ? 0 : JOB_RETENTION_MS));
    }
    return this.#store.status()!;
  }

  /** The job's status, or null when no job has this name. */
  async status(): Promise<JobStatus | null> {
    return this.#deleted ? null : this.#store.status();
  }

  /** The job's status once it has ended, or as it stands after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<JobStatus | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.#deleted ? null : this.#store.status();
      const left = deadline - Date.now();
      if (!status || isTerminal(status.state) || left <= 0) return status;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        // Polls too, in case the run happens in another instance after an eviction.
        const timer = setTimeout(wake, Math.min(left, 250));
        this.#waiters.add(wake);
      });
    }
  }

  /**
   * Tenant erasure (erase.ts): deletes the job's whole storage and alarm at once, whatever its
   * state; a run still going in this instance drops its work at its next step. Returns whether
   * the object held a job.
   */
  async erase(): Promise<boolean> {
    const held = !this.#deleted && this.#store.status() !== null;
    this.#deleted = true;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    for (const wake of [...this.#waiters]) wake();
    return held;
  }

  /** Runs (or resumes, or retries) the job; after the end, deletes it once its retention passed. */
  override async alarm(): Promise<void> {
    const status = this.#deleted ? null : this.#store.status();
    if (!status) return;
    if (isTerminal(status.state)) {
      const expiresAt = Date.parse(status.updatedAt) + JOB_RETENTION_MS;
      if (expiresAt > Date.now()) {
        await this.ctx.storage.setAlarm(expiresAt);
        return;
      }
      // Tables and all: an object with no storage left is not kept.
      const plan = this.#store.plan();
      if (plan) await stubFor(this.env.JOB_DIRECTORY, plan.tenant.tenantId).remove(status.id);
      await this.ctx.storage.deleteAll();
      this.#deleted = true;
      return;
    }
    // The watchdog alarm of a run still going in this instance: that run sets the next alarm.
    if (this.#running) return;
    this.#running = true;
    try {
      await this.#attempt(status);
    } finally {
      this.#running = false;
      for (const wake of [...this.#waiters]) wake();
    }
  }

  async #attempt(status: JobStatus): Promise<void> {
    const attempt = this.#store.attempts() + 1;
    this.#store.update({ state: "running", attempts: attempt });
    const lease = () => this.ctx.storage.setAlarm(Date.now() + LEASE_MS);
    await lease();
    try {
      await runPipeline({
        store: this.#store,
        bucket: this.env.DOCUMENTS,
        index: this.#index,
        ai: this.#ai,
        jobId: status.id,
        onProgress: lease,
      });
      await this.ctx.storage.setAlarm(Date.now() + JOB_RETENTION_MS);
    } catch (error) {
      // Erased mid-run (its tables are gone, so the run's next step threw): nothing is left to record.
      if (this.#deleted) return;
      const failure = asFailure(error);
      const plan = this.#store.plan()!;
      const fields = {
        tenantId: plan.tenant.tenantId,
        requestId: plan.tenant.requestId,
        jobId: status.id,
        docId: status.docId,
        attempt,
        code: failure.code,
        error: failure.message,
      };
      if (failure.retryable && attempt < MAX_ATTEMPTS) {
        log("warn", "ingest.job_retry", fields);
        await this.ctx.storage.setAlarm(Date.now() + this.#backoff(attempt));
        return;
      }
      log("error", "ingest.job_failed", fields);
      // Past the index step the upsert may have landed: then the file is rag's version's file.
      const mayBeIndexed = this.#store.status()?.step === "index" && failure.code !== "conflict";
      this.#store.dropChunks();
      this.#store.update({ state: "failed", error: { code: failure.code, message: failure.message } });
      if (plan.rawKey && !mayBeIndexed) await deleteRawFiles(this.env.DOCUMENTS, [plan.rawKey]);
      await this.ctx.storage.setAlarm(Date.now() + JOB_RETENTION_MS);
    }
  }

  /** Exponential backoff with equal jitter: attempt n waits between base·2ⁿ⁻¹/2 and base·2ⁿ⁻¹. */
  #backoff(attempt: number): number {
    const ceiling = this.#retryBaseMs * 2 ** (attempt - 1);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}

/** A thrown JobFailure as is; anything else (RPC, R2, a bug) as a retryable internal failure. */
function asFailure(error: unknown): JobFailure {
  if (error instanceof JobFailure) return error;
  const message = errorMessage(error);
  return new JobFailure("internal", `unexpected failure: ${message}`, true);
}
