/**
 * What each step of a tenant erasure does (the order is ERASURE_STEPS; the TenantErasure object
 * drives them). Each call does one bounded piece of work — one RPC call, one D1 batch — and says
 * what it did, so the object can persist it before the next piece; nothing here keeps state.
 *
 * - keys: the tenant's API key ids are read and remembered first, then the keys are deleted (no
 *   request authenticates with them again: at once on this isolate, within KEY_CACHE_TTL_MS on
 *   every other), then the tenant's audit rows (all but earlier `tenant.erased` records).
 * - drain: waits out the key cache, so requests authenticated before the keys went have ended
 *   their writes before the workers are erased.
 * - chat, ingest, rag, tools: the worker's `eraseTenant`, until it reports done — producers first
 *   (a chat turn or an ingest job writes into rag, tools and ratelimit), then what they write to.
 * - ratelimit: its `eraseTenant` with the remembered key ids, a slice at a time.
 * - verify: every worker's count of what is left, and the gateway's own (keys, audit rows).
 * - record: the operator-level audit row `tenant.erased` (ids, times and counts only).
 */
import {
  ERASURE_LIMITS,
  type EraseReport,
  type EraseRequest,
  type ErasureStep,
  OPERATOR_ACTOR,
  type RpcResult,
  type StoreCounts,
  type TenantContext,
  addCounts,
} from "@crispy/contracts";
import { countTenantKeys, eraseTenantKeys, listKeys } from "../auth/api-keys";
import { forgetKey } from "../auth/key-cache";
import { ERASURE_ACTION, auditStatement, countTenantAudit, eraseTenantAudit } from "../audit/store";
import type { ErasureJobStore, StoredJob } from "./job-store";

/** Rows one D1 batch of the keys step deletes. */
const KEYS_BATCH = 500;

/** What an internal worker answers for erasure (every one has the same method). */
export interface ErasingWorker {
  eraseTenant(tenant: TenantContext, request?: EraseRequest): Promise<RpcResult<EraseReport>>;
}

export interface StepDeps {
  env: GatewayEnv;
  store: ErasureJobStore;
  job: StoredJob;
  /** The context of one call into a worker: the erasure context, the job's request id, a new span. */
  context(): TenantContext;
}

export type StepOutcome =
  /** Work was done (`erased` by `owner`); `done`: the step is complete; `cursor`: the step's new progress. */
  | { kind: "progress"; done: boolean; owner?: string; erased?: StoreCounts; cursor?: number }
  /** The verification's findings: what is left, per owner and store. */
  | { kind: "verified"; remaining: Record<string, StoreCounts> }
  /** A worker refused or failed; the step is tried again later. */
  | { kind: "failed"; code: string; message: string };

/** The workers erased one after another, in the job's order. */
export const WORKER_STEPS = ["chat", "ingest", "rag", "tools", "ratelimit"] as const satisfies readonly ErasureStep[];
type WorkerStep = (typeof WORKER_STEPS)[number];

export function workerOf(env: GatewayEnv, step: WorkerStep): ErasingWorker {
  const bindings: Record<WorkerStep, ErasingWorker> = {
    chat: env.CHAT,
    ingest: env.INGEST,
    rag: env.RAG,
    tools: env.TOOLS,
    ratelimit: env.RATELIMIT,
  };
  return bindings[step];
}

function isWorkerStep(step: ErasureStep): step is WorkerStep {
  return (WORKER_STEPS as readonly string[]).includes(step);
}

/** Runs one piece of `step` (not drain, whose wait the object keeps itself). */
export async function runStep(step: ErasureStep, deps: StepDeps): Promise<StepOutcome> {
  if (step === "keys") return eraseKeys(deps);
  if (step === "ratelimit") return eraseRatelimit(deps);
  if (isWorkerStep(step)) return fromReport(step, await workerOf(deps.env, step).eraseTenant(deps.context()));
  if (step === "verify") return verify(deps);
  if (step === "record") return record(deps);
  return { kind: "progress", done: true };
}

function fromReport(owner: string, result: RpcResult<EraseReport>): StepOutcome {
  if (!result.ok) return { kind: "failed", code: result.error.code, message: result.error.message };
  return { kind: "progress", done: result.value.done, owner, erased: result.value.counts };
}

/** Phase 0: remember every key id; 1: delete the keys; 2: delete the audit rows. */
async function eraseKeys({ env, store, job }: StepDeps): Promise<StepOutcome> {
  const db = env.KEYS_DB;
  if (job.cursor === 0) {
    store.addKeyIds((await listKeys(db, job.tenantId)).map((key) => key.id));
    return { kind: "progress", done: false, cursor: 1 };
  }
  if (job.cursor === 1) {
    const { deleted, keyIds } = await eraseTenantKeys(db, job.tenantId, KEYS_BATCH);
    store.addKeyIds(keyIds);
    for (const id of keyIds) forgetKey(id);
    return {
      kind: "progress",
      done: false,
      owner: "gateway",
      erased: { apiKeys: deleted },
      cursor: deleted < KEYS_BATCH ? 2 : 1,
    };
  }
  const { deleted } = await eraseTenantAudit(db, job.tenantId, KEYS_BATCH);
  return { kind: "progress", done: deleted < KEYS_BATCH, owner: "gateway", erased: { auditEntries: deleted } };
}

/** One slice of the remembered key ids at a time; done once every slice went and the usage log is empty. */
async function eraseRatelimit({ env, store, job, context }: StepDeps): Promise<StepOutcome> {
  const keyIds = store.keyIds(job.cursor, ERASURE_LIMITS.maxKeyIds);
  const outcome = fromReport("ratelimit", await env.RATELIMIT.eraseTenant(context(), { keyIds }));
  if (outcome.kind !== "progress") return outcome;
  return { ...outcome, done: outcome.done && keyIds.length === 0, cursor: job.cursor + keyIds.length };
}

/** What every worker and the gateway still hold of the tenant. */
async function verify({ env, store, job, context }: StepDeps): Promise<StepOutcome> {
  const remaining: Record<string, StoreCounts> = {
    gateway: {
      apiKeys: await countTenantKeys(env.KEYS_DB, job.tenantId),
      auditEntries: await countTenantAudit(env.KEYS_DB, job.tenantId),
    },
  };
  for (const step of WORKER_STEPS) {
    const slices: string[][] = [];
    if (step === "ratelimit") {
      for (let offset = 0; offset === 0 || offset < store.keyIdCount(); offset += ERASURE_LIMITS.maxKeyIds) {
        slices.push(store.keyIds(offset, ERASURE_LIMITS.maxKeyIds));
      }
    } else {
      slices.push([]);
    }
    const counts: StoreCounts = {};
    for (const keyIds of slices) {
      const result = await workerOf(env, step).eraseTenant(context(), {
        mode: "count",
        ...(keyIds.length > 0 ? { keyIds } : {}),
      });
      if (!result.ok) return { kind: "failed", code: result.error.code, message: `${step}: ${result.error.message}` };
      addCounts(counts, result.value.counts);
    }
    remaining[step] = counts;
  }
  return { kind: "verified", remaining };
}

/** The `tenant.erased` audit row, once per job (a retry after a lost answer writes no second one). */
async function record({ env, store, job }: StepDeps): Promise<StepOutcome> {
  const statement = auditStatement(
    env.KEYS_DB,
    {
      tenantId: job.tenantId,
      actor: OPERATOR_ACTOR,
      action: ERASURE_ACTION,
      target: job.tenantId,
      requestId: job.requestId,
      details: { startedAt: new Date(job.startedAt).toISOString(), rounds: job.round, erased: store.erased() },
    },
    {
      sql: "NOT EXISTS (SELECT 1 FROM audit_log WHERE tenant_id = ? AND action = ? AND request_id = ?)",
      values: [job.tenantId, ERASURE_ACTION, job.requestId],
    },
  );
  await statement.run();
  return { kind: "progress", done: true };
}
