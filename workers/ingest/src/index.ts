/**
 * crispy-ingest: turns texts and uploaded files (.txt .md .html .json .csv .tsv .pdf) into indexed
 * chunks in crispy-rag, over RPC only (no public routes; the gateway calls it with the resolved
 * TenantContext first). Exports the entrypoint and its Durable Objects:
 * - JobDirectory `${tenantId}` — the jobs that exist, asked before any job is touched;
 * - IngestJob `${tenantId}:${jobId}` — one ingest job: its status and the alarm-driven pipeline
 *   parse → chunk → embed → index, with retries.
 *
 * Owns the raw files in R2 (DOCUMENTS) at `${tenantId}/documents/${docId}/v${version}/${file}`.
 *
 * Invariants:
 * - A job id or document id of another tenant is "not_found", indistinguishable from missing.
 * - Re-ingesting the same content (same parsed text, title, source, url, metadata) is "unchanged"
 *   and does no work; changed content becomes the next version, replacing the previous one's
 *   chunks in rag atomically and, once indexed, its raw file.
 * - `eraseTenant` (erase.ts) answers only the erasure context: jobs first (a running one stops),
 *   then every raw file under `${tenantId}/`.
 * - Expected failures are RpcResult values ("bad_request", "payload_too_large",
 *   "unsupported_media_type", "not_found", "upstream_unavailable"); a job's own failure is its
 *   state "failed" with the error.
 *
 * The entrypoint checks and parses an upload (prepare.ts), decides whether it is new content
 * (idempotent by content hash: when rag already holds the same hash the job is "unchanged" from
 * the start and nothing is stored, embedded or indexed), stores the raw file in R2, and hands the
 * rest to an IngestJob, whose alarm runs the pipeline in the background; with `wait` it also waits
 * (up to WAIT_MS) for the job to end.
 *
 * Offline by default: AI_PROVIDER "local" embeds without an account or network. Production deploys
 * with `wrangler deploy --env production`, whose `env.production` block adds the Workers AI binding
 * and sets AI_PROVIDER "workers-ai" (kept out of the default env: declared there, it makes
 * `wrangler dev` open a remote proxy session, which fails without a Cloudflare login).
 */
import {
  DOCUMENT_ID_PATTERN,
  fail,
  ok,
  type DocumentRecord,
  type EraseReport,
  type EraseRequest,
  type IngestInput,
  type IngestJob as JobStatus,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { InternalEntrypoint, errorMessage, idForMessage, stubFor } from "@crispy/worker-kit";
import { isTransient, ragIndex, type DocumentIndex } from "./document-index";
import { eraseTenant } from "./erase";
import { IngestJob } from "./job";
import { JobDirectory } from "./job-directory";
import { JOB_ID_PATTERN, newJobId } from "./ids";
import { prepareIngest } from "./prepare";
import { deleteRawFiles, listRawFiles, storeNewVersion } from "./raw-files";

/** How long `ingest(…, { wait: true })` waits for the job to end before returning it as it is. */
const WAIT_MS = 10_000;

export interface IngestOptions {
  /** Wait up to WAIT_MS for the job to end (done, unchanged or failed) before answering. */
  wait: boolean;
}

export { IngestJob, JobDirectory };

export default class IngestService extends InternalEntrypoint<IngestEnv> {
  protected readonly worker = "ingest";

  /** Starts ingesting a text or file as a document (new, or a new version of `input.id`); returns its job. */
  async ingest(
    tenant: TenantContext,
    input: IngestInput,
    options: IngestOptions = { wait: false },
  ): Promise<RpcResult<JobStatus>> {
    const prepared = await prepareIngest(input);
    if (!prepared.ok) return prepared;
    const { kind, bytes, fileName, document } = prepared.value;
    const current = await currentDocument(this.#index(), tenant, document.id);
    if (!current.ok) return current;

    const jobId = newJobId();
    await stubFor(this.env.JOB_DIRECTORY, tenant.tenantId).add(jobId);
    const job = stubFor(this.env.INGEST_JOB, tenant.tenantId, jobId);
    if (current.value && current.value.contentHash === document.contentHash) {
      const plan = { tenant, rawKey: null, kind, document: { ...document, version: current.value.version } };
      return ok(await job.create({ jobId, state: "unchanged", plan }));
    }
    const stored = await storeNewVersion(
      this.env.DOCUMENTS,
      {
        tenantId: tenant.tenantId,
        docId: document.id,
        fileName,
        contentType: document.contentType,
        contentHash: document.contentHash,
        jobId,
        bytes,
      },
      current.value?.version ?? 0,
    );
    if (!stored) return fail("conflict", `document "${document.id}" is being ingested by many requests at once; retry`);
    const plan = { tenant, rawKey: stored.key, kind, document: { ...document, version: stored.version } };
    const started = await job.create({ jobId, state: "queued", plan });
    if (!options?.wait) return ok(started);
    return ok((await job.settle(WAIT_MS)) ?? started);
  }

  /** The status of one of the tenant's ingest jobs: state, step, progress, version, error. */
  async job(tenant: TenantContext, jobId: string): Promise<RpcResult<JobStatus>> {
    const missing = fail("not_found", `ingest job "${idForMessage(jobId)}" does not exist`);
    if (typeof jobId !== "string" || !JOB_ID_PATTERN.test(jobId)) return missing;
    // Unknown ids stop here: the job's own object is only ever touched for a job that exists.
    if (!(await stubFor(this.env.JOB_DIRECTORY, tenant.tenantId).has(jobId))) return missing;
    const status = await stubFor(this.env.INGEST_JOB, tenant.tenantId, jobId).status();
    return status ? ok(status) : missing;
  }

  /** Deletes a document: its chunks and vectors (in rag) and every stored version's raw file. */
  async deleteDocument(tenant: TenantContext, docId: string): Promise<RpcResult<{ id: string; deleted: true }>> {
    const missing = fail("not_found", `document "${idForMessage(docId, 96)}" does not exist`);
    if (typeof docId !== "string" || !DOCUMENT_ID_PATTERN.test(docId)) return missing;
    let removed: Awaited<ReturnType<DocumentIndex["deleteDocument"]>>;
    try {
      removed = await this.#index().deleteDocument(tenant, docId);
    } catch (error) {
      return ragUnreachable(error);
    }
    if (!removed.ok && removed.error.code !== "not_found") return ragRefused(removed.error);
    // Files go after the index entry: if rag refused, the document stays whole.
    const files = await listRawFiles(this.env.DOCUMENTS, tenant.tenantId, docId);
    await deleteRawFiles(
      this.env.DOCUMENTS,
      files.map((file) => file.key),
    );
    if (!removed.ok && files.length === 0) return missing;
    return ok({ id: docId, deleted: true });
  }

  /** Tenant erasure (the gateway's erasure job only): one batch of the tenant's jobs and raw files, or a count of what is left. */
  async eraseTenant(tenant: TenantContext, request?: EraseRequest): Promise<RpcResult<EraseReport>> {
    return eraseTenant(this.env, tenant, request);
  }

  #index(): DocumentIndex {
    return ragIndex(this.env);
  }
}

/** The document as rag holds it now, null when it has none, or why rag could not say. */
async function currentDocument(
  index: DocumentIndex,
  tenant: TenantContext,
  docId: string,
): Promise<RpcResult<DocumentRecord | null>> {
  let found: RpcResult<DocumentRecord>;
  try {
    found = await index.getDocument(tenant, docId);
  } catch (error) {
    return ragUnreachable(error);
  }
  if (found.ok) return found;
  return found.error.code === "not_found" ? ok(null) : ragRefused(found.error);
}

function ragUnreachable(error: unknown): ReturnType<typeof fail> {
  return fail("upstream_unavailable", `the rag worker could not be reached: ${errorMessage(error)}`);
}

function ragRefused(error: { code: string; message: string }): ReturnType<typeof fail> {
  return fail(
    isTransient(error.code) ? "upstream_unavailable" : "internal",
    `rag answered ${error.code}: ${error.message}`,
  );
}
