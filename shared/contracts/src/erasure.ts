/**
 * Tenant erasure (docs/erasure.md). The gateway's erasure job (a Durable Object per tenant) calls
 * every internal worker's `eraseTenant(tenant, request)` until it reports `done`, then once more
 * with `mode: "count"` to verify that nothing is left; each worker erases only the stores it owns.
 * The job's state is what `DELETE|GET /admin/tenants/:id/data` answer.
 *
 * The context of these calls is the erasure context (`erasureContext`): the tenant's id and
 * config, no key and no scopes — a context no API request carries, since every authenticated
 * request has a key. Workers refuse `eraseTenant` under any other context ("forbidden"), so a
 * sibling worker passing on a client's context can never erase anything.
 */
import { z } from "zod";
import type { TenantContext } from "./context";
import { fail, ok, type RpcResult } from "./errors";
import type { TenantConfig } from "./tenant-config";

export const ERASURE_LIMITS = {
  /** Items of one store one erase call deletes by default: bounded work per call (subrequests, CPU). */
  defaultBatchSize: 100,
  maxBatchSize: 1_000,
  /** API key ids per ratelimit call (each means three Durable Object calls: rate, token rate, budget). */
  maxKeyIds: 50,
} as const;

export interface EraseRequest {
  /** "erase" (default): delete a bounded batch; "count": delete nothing, count what is left. */
  mode?: "erase" | "count";
  /** Most items per store this call deletes (1 – ERASURE_LIMITS.maxBatchSize). */
  batchSize?: number;
  /** ratelimit: the tenant's API key ids, whose per-key limiters are erased (≤ maxKeyIds a call). */
  keyIds?: string[];
}

/** Items per store, named by the worker that owns them (`sessions`, `documents`, `files`, …). */
export type StoreCounts = Record<string, number>;

export interface EraseReport {
  /**
   * erase: nothing of the tenant is left in this worker as far as it can tell (call again while
   * false); count: every count is 0.
   */
  done: boolean;
  /** erase: items this call deleted, per store; count: items left, per store. */
  counts: StoreCounts;
}

/** The context the erasure job acts with: the tenant's own id and config, no key, no scopes. */
export function erasureContext(config: TenantConfig, requestId: string, traceparent: string): TenantContext {
  return { tenantId: config.id, requestId, traceparent, scopes: [], config };
}

/** Why `tenant` may not erase (it is an API request's context), or null for the erasure context. */
export function erasureRefusal(tenant: TenantContext): string | null {
  if (tenant.keyId === undefined && Array.isArray(tenant.scopes) && tenant.scopes.length === 0) return null;
  return "eraseTenant is the erasure job's: it takes the erasure context (no API key, no scopes)";
}

/** What is wrong with an erase request, or null (an absent request is the default one). */
export function eraseRequestProblem(request: unknown): string | null {
  if (request === undefined || request === null) return null;
  if (typeof request !== "object" || Array.isArray(request)) return "erase request must be an object";
  const { mode, batchSize, keyIds } = request as Record<string, unknown>;
  if (mode !== undefined && mode !== "erase" && mode !== "count") return 'mode must be "erase" or "count"';
  if (
    batchSize !== undefined &&
    (typeof batchSize !== "number" ||
      !Number.isInteger(batchSize) ||
      batchSize < 1 ||
      batchSize > ERASURE_LIMITS.maxBatchSize)
  ) {
    return `batchSize must be a whole number from 1 to ${ERASURE_LIMITS.maxBatchSize}`;
  }
  if (keyIds !== undefined) {
    if (!Array.isArray(keyIds) || keyIds.length > ERASURE_LIMITS.maxKeyIds) {
      return `keyIds must be a list of at most ${ERASURE_LIMITS.maxKeyIds} key ids`;
    }
    if (!keyIds.every((id) => typeof id === "string" && id.length > 0 && id.length <= 128)) {
      return "keyIds must be key ids (1-128 characters each)";
    }
  }
  return null;
}

/** The request with its defaults applied (call after `eraseRequestProblem` said null). */
export function eraseRequestOf(request: EraseRequest | undefined | null): Required<EraseRequest> {
  return {
    mode: request?.mode ?? "erase",
    batchSize: request?.batchSize ?? ERASURE_LIMITS.defaultBatchSize,
    keyIds: request?.keyIds ?? [],
  };
}

/**
 * The start of every worker's `eraseTenant`: "forbidden" under any context but the erasure
 * context, "bad_request" for a malformed request, else the request with its defaults.
 */
export function eraseCallOf(
  tenant: TenantContext,
  request: EraseRequest | undefined,
): RpcResult<Required<EraseRequest>> {
  const refusal = erasureRefusal(tenant);
  if (refusal) return fail("forbidden", refusal);
  const problem = eraseRequestProblem(request);
  if (problem) return fail("bad_request", problem);
  return ok(eraseRequestOf(request));
}

/** Adds `more` into `into`, store by store (counts accumulate across calls). */
export function addCounts(into: StoreCounts, more: StoreCounts): StoreCounts {
  for (const [store, count] of Object.entries(more)) into[store] = (into[store] ?? 0) + count;
  return into;
}

/** Whether every count is 0. */
export function allZero(counts: StoreCounts): boolean {
  return Object.values(counts).every((count) => count === 0);
}

// The job, as the operator API reports it.

/** `DELETE /admin/tenants/:id/data?again=true`: a new erasure even when one has finished (a tenant id used again). */
export const EraseTenantQuerySchema = z.strictObject({ again: z.enum(["true", "false"]).optional() });

/** The job's steps, in order: keys first (nothing new arrives), producers before the stores they write to. */
export const ERASURE_STEPS = [
  "keys",
  "drain",
  "chat",
  "ingest",
  "rag",
  "tools",
  "ratelimit",
  "verify",
  "record",
] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

/** running (erasing), verifying (counting what is left), done, or failed (see `lastError`; DELETE again resumes). */
export type ErasureState = "running" | "verifying" | "done" | "failed";

export interface ErasureJob {
  tenantId: string;
  state: ErasureState;
  /** The step in progress; null once the job ended. */
  step: ErasureStep | null;
  steps: Array<{ name: ErasureStep; state: "pending" | "running" | "done" }>;
  /** Erase-and-verify rounds so far (a verification that finds leftovers starts another). */
  round: number;
  /** The request id of the DELETE that started the job: every worker's log lines of the job carry it. */
  requestId: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** Items erased so far, per owner (`gateway`, `chat`, …) and store. */
  erased: Record<string, StoreCounts>;
  /** What the last verification found left, per owner and store (all 0 when done); null before it ran. */
  remaining: Record<string, StoreCounts> | null;
  /** Failed attempts of the current step, and when it is tried again. */
  attempts: number;
  nextAttemptAt: string | null;
  lastError: { step: ErasureStep; code: string; message: string; at: string } | null;
}
