/**
 * TenantErasure Durable Object: one per tenant, named by the tenant id — the erasure of everything
 * the tenant has in the mesh (docs/erasure.md), run as a durable job: its state and each step's
 * progress are persisted here (job-store.ts) and its alarm drives the steps (steps.ts), so the job
 * runs after the DELETE that started it returned, survives eviction and restarts, and retries.
 *
 * Lifecycle: keys → drain → chat → ingest → rag → tools → ratelimit → verify → record → done.
 * A verification that finds anything left starts another round from the first step with
 * leftovers (stores such as Vectorize and KV apply deletes asynchronously, and a request
 * authenticated before the keys went may still have written), after a growing delay; past
 * MAX_ROUNDS the job fails, naming what is left.
 *
 * Invariants:
 * - Idempotent: `start` on a running job returns it as it is; on a finished one too, unless
 *   `again` (a tenant id used again and to be erased again) starts a new job; on a failed one it
 *   resumes where it stopped. Every step's calls may be repeated: each deletes what it finds.
 * - Bounded: one alarm runs steps for at most SLICE_MS, one bounded call at a time, then re-arms.
 * - A failing step (a failure value or an exception) is retried with exponential backoff and
 *   jitter; after MAX_ATTEMPTS in a row the job is "failed" with the error (DELETE again resumes it).
 * - The job record itself — tenant id, times, counts, the request id — is the one thing kept of an
 *   erased tenant here, with the `tenant.erased` audit row: proof of the erasure, no content.
 */
import { DurableObject } from "cloudflare:workers";
import {
  ERASURE_STEPS,
  type ErasureJob,
  type ErasureStep,
  type StoreCounts,
  type TenantConfig,
  type TenantContext,
  allZero,
  erasureContext,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage } from "@crispy/worker-kit/util";
import { configOf } from "../config";
import { ErasureJobStore, type StoredJob } from "./job-store";
import { WORKER_STEPS, runStep, type StepOutcome } from "./steps";

/** Wall time one alarm spends on steps before it re-arms (and yields to status calls). */
const SLICE_MS = 10_000;
/** First retry delay of a failed step; doubles per attempt up to RETRY_MAX_MS. */
export const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;
export const MAX_ATTEMPTS = 10;
/** Rounds of erase + verify before the job gives up; the delay before each round after the first. */
export const MAX_ROUNDS = 5;
const ROUND_DELAYS_MS = [5_000, 15_000, 30_000, 60_000];
/** Past the key cache's TTL, for leases and turns that were admitted just before the keys went. */
const DRAIN_SLACK_MS = 2_000;

export interface StartRequest {
  config: TenantConfig;
  /** The DELETE's request id: every worker's log lines of the job carry it. */
  requestId: string;
  traceId: string;
  /** Start a new job even when one has finished. */
  again: boolean;
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function stepIndex(step: ErasureStep): number {
  return ERASURE_STEPS.indexOf(step);
}

export class TenantErasure extends DurableObject<GatewayEnv> {
  readonly #store: ErasureJobStore;

  constructor(ctx: DurableObjectState, env: GatewayEnv) {
    super(ctx, env);
    this.#store = new ErasureJobStore(ctx.storage);
  }

  /** Starts the tenant's erasure, or returns the job there is (see the invariants); `started`: whether this call (re)started it. */
  async start(request: StartRequest): Promise<{ job: ErasureJob; started: boolean }> {
    const now = Date.now();
    let job = this.#store.job();
    let started = false;
    if (!job || (job.state === "done" && request.again)) {
      job = this.#store.start(request, now);
      started = true;
    } else if (job.state === "failed") {
      // Resumed where it stopped; a verification that ran out of rounds gets fresh ones.
      const round = job.step === "verify" ? 1 : job.round;
      job = this.#store.update({ state: "running", round, attempts: 0, nextAt: now, finishedAt: null }, now);
      started = true;
    }
    if (started) {
      this.#log("info", "erasure.started", job, { round: job.round, step: job.step });
      await this.ctx.storage.setAlarm(now);
    }
    return { job: this.#view(job), started };
  }

  /** The job as the operator API reports it, or null when the tenant was never erased. */
  async status(): Promise<ErasureJob | null> {
    const job = this.#store.job();
    return job ? this.#view(job) : null;
  }

  /** Runs steps for up to SLICE_MS, persisting each piece; re-arms for the rest, a retry or a wait. */
  override async alarm(): Promise<void> {
    const deadline = Date.now() + SLICE_MS;
    for (;;) {
      const job = this.#store.job();
      if (job?.state !== "running") return;
      const now = Date.now();
      if (job.nextAt !== null && job.nextAt > now) {
        await this.ctx.storage.setAlarm(job.nextAt);
        return;
      }
      if (now >= deadline) {
        await this.ctx.storage.setAlarm(now);
        return;
      }
      await this.#advance(job);
    }
  }

  /** One piece of the current step, and what follows from it. */
  async #advance(job: StoredJob): Promise<void> {
    if (job.step === "drain") {
      this.#next(job, { nextAt: this.#drainUntil(job) });
      return;
    }
    let outcome: StepOutcome;
    try {
      outcome = await runStep(job.step, { env: this.env, store: this.#store, job, context: () => this.#context(job) });
    } catch (error) {
      outcome = { kind: "failed", code: "upstream_unavailable", message: errorMessage(error) };
    }
    switch (outcome.kind) {
      case "failed":
        this.#failed(job, outcome.code, outcome.message);
        return;
      case "verified":
        this.#verified(job, outcome.remaining);
        return;
      case "progress": {
        if (outcome.owner && outcome.erased) this.#store.addErased(outcome.owner, outcome.erased);
        if (outcome.done) this.#next(job, {});
        else this.#store.update({ attempts: 0, cursor: outcome.cursor ?? job.cursor });
      }
    }
  }

  /** Moves to the step after the current one (`record` done: the job is done). */
  #next(job: StoredJob, extra: { nextAt?: number | null }): void {
    this.#log("info", "erasure.step_done", job, { step: job.step, round: job.round });
    const next = ERASURE_STEPS[stepIndex(job.step) + 1];
    if (!next) {
      const done = this.#store.update({ state: "done", step: "record", nextAt: null, finishedAt: Date.now() });
      this.#log("info", "erasure.done", done, { rounds: done.round, erased: this.#store.erased() });
      return;
    }
    this.#store.update({ step: next, cursor: 0, attempts: 0, nextAt: extra.nextAt ?? null });
  }

  /** The drain ends KEY_CACHE_TTL_MS (+ slack) after the keys went; no wait when the tenant had none. */
  #drainUntil(job: StoredJob): number | null {
    if (this.#store.keyIdCount() === 0) return null;
    return job.updatedAt + configOf(this.env).KEY_CACHE_TTL_MS + DRAIN_SLACK_MS;
  }

  #verified(job: StoredJob, remaining: Record<string, StoreCounts>): void {
    const left = Object.entries(remaining).filter(([, counts]) => !allZero(counts));
    if (left.length === 0) {
      this.#store.update({ remaining });
      this.#next(this.#store.job()!, {});
      return;
    }
    const summary = left.map(([owner, counts]) => `${owner} ${JSON.stringify(counts)}`).join("; ");
    if (job.round >= MAX_ROUNDS) {
      this.#fail(
        job,
        { remaining },
        "verify",
        "conflict",
        `after ${job.round} rounds the tenant still has: ${summary}`,
      );
      return;
    }
    // Again from the first step with leftovers (the drain only if keys are left), after a delay.
    const owners = new Set(left.map(([owner]) => owner));
    const from: ErasureStep = owners.has("gateway") ? "keys" : WORKER_STEPS.find((step) => owners.has(step))!;
    const delay = ROUND_DELAYS_MS[Math.min(job.round - 1, ROUND_DELAYS_MS.length - 1)]!;
    this.#log("warn", "erasure.leftovers", job, { round: job.round, remaining: summary });
    this.#store.update({
      remaining,
      round: job.round + 1,
      step: from,
      cursor: 0,
      attempts: 0,
      nextAt: Date.now() + delay,
    });
  }

  #failed(job: StoredJob, code: string, message: string): void {
    const attempts = job.attempts + 1;
    if (attempts >= MAX_ATTEMPTS) {
      this.#fail(job, { attempts }, job.step, code, message);
      return;
    }
    const ceiling = Math.min(RETRY_BASE_MS * 2 ** (attempts - 1), RETRY_MAX_MS);
    const nextAt = Date.now() + Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    const lastError = { step: job.step, code, message, at: Date.now() };
    this.#log("warn", "erasure.step_failed", job, { step: job.step, attempt: attempts, code, message });
    this.#store.update({ attempts, nextAt, lastError });
  }

  #fail(
    job: StoredJob,
    extra: { attempts?: number; remaining?: Record<string, StoreCounts> },
    step: ErasureStep,
    code: string,
    message: string,
  ): void {
    const now = Date.now();
    this.#log("error", "erasure.failed", job, { step, code, message });
    this.#store.update({
      ...extra,
      state: "failed",
      nextAt: null,
      finishedAt: now,
      lastError: { step, code, message, at: now },
    });
  }

  /** The erasure context for one call: the job's request id, a new span of its trace. */
  #context(job: StoredJob): TenantContext {
    return erasureContext(job.config, job.requestId, `00-${job.traceId}-${randomHex(8)}-01`);
  }

  #view(job: StoredJob): ErasureJob {
    const current = stepIndex(job.step);
    const ended = job.state !== "running";
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      tenantId: job.tenantId,
      state: ended ? job.state : job.step === "verify" ? "verifying" : "running",
      step: ended ? null : job.step,
      steps: ERASURE_STEPS.map((name, i) => ({
        name,
        state: i < current || job.state === "done" ? "done" : i === current && !ended ? "running" : "pending",
      })),
      round: job.round,
      requestId: job.requestId,
      startedAt: iso(job.startedAt)!,
      updatedAt: iso(job.updatedAt)!,
      finishedAt: iso(job.finishedAt),
      erased: this.#store.erased(),
      remaining: job.remaining,
      attempts: job.attempts,
      nextAttemptAt: job.state === "running" && job.attempts > 0 ? iso(job.nextAt) : null,
      lastError: job.lastError ? { ...job.lastError, at: iso(job.lastError.at)! } : null,
    };
  }

  #log(level: "info" | "warn" | "error", event: string, job: StoredJob, fields: Record<string, unknown>): void {
    log(level, event, { tenantId: job.tenantId, requestId: job.requestId, traceId: job.traceId, ...fields });
  }
}
