/**
 * Tenant erasure for the ingest worker (docs/erasure.md): the tenant's ingest jobs — every job its
 * JobDirectory lists, each IngestJob object's whole storage and alarm, then the directory — and
 * then its raw files in R2 (every key under `${tenantId}/`). Jobs go first: a job still running
 * stops at its next step (its object notices it was erased and drops the run), so no pipeline
 * writes a file or an index entry after the files are gone.
 *
 * Bounded and idempotent: one call erases at most `batchSize` jobs or files and answers
 * `done: false` while any are left; a job is unlisted only after its storage is gone, so a call cut
 * short is simply repeated. Ingest has no queue whose messages would outlive the tenant: a job runs
 * on its own object's alarm, and an erased object holds no alarm.
 */
import {
  type EraseReport,
  type EraseRequest,
  eraseCallOf,
  ok,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { countObjects, deleteObjectsPage, stubFor } from "@crispy/worker-kit";

/** Every R2 key of the tenant starts with this (tenant ids contain no "/"). */
export function tenantPrefix(tenantId: string): string {
  return `${tenantId}/`;
}

/** Erases one batch of the tenant's jobs or files (or, with `mode: "count"`, counts what is left). */
export async function eraseTenant(
  env: IngestEnv,
  tenant: TenantContext,
  request: EraseRequest | undefined,
): Promise<RpcResult<EraseReport>> {
  const call = eraseCallOf(tenant, request);
  if (!call.ok) return call;
  const { mode, batchSize } = call.value;
  const directory = stubFor(env.JOB_DIRECTORY, tenant.tenantId);
  const prefix = tenantPrefix(tenant.tenantId);
  if (mode === "count") {
    const counts = { jobs: await directory.size(), files: await countObjects(env.DOCUMENTS, prefix) };
    return ok({ done: counts.jobs === 0 && counts.files === 0, counts });
  }

  const ids = await directory.oldest(batchSize);
  await Promise.all(ids.map((id) => stubFor(env.INGEST_JOB, tenant.tenantId, id).erase()));
  if (ids.length > 0) await directory.removeMany(ids);
  // A job added meanwhile keeps the directory (the next call erases it).
  if (ids.length === batchSize || !(await directory.eraseIfEmpty())) {
    return ok({ done: false, counts: { jobs: ids.length, files: 0 } });
  }

  const files = await deleteObjectsPage(env.DOCUMENTS, prefix, batchSize);
  return ok({ done: !files.more, counts: { jobs: ids.length, files: files.deleted } });
}
