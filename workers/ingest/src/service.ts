/**
 * IngestService, the worker's RPC entrypoint (exported as default by index.ts). It checks and
 * parses an upload (prepare.ts), decides whether it is new content, stores the raw file in R2,
 * and hands the rest to an IngestJob Durable Object, whose alarm runs the pipeline in the
 * background; with `wait` it also waits (up to WAIT_MS) for the job to end.
 *
 * Invariants:
 * - Every method takes the TenantContext first; jobs are named `${tenantId}:${jobId}` and R2
 *   keys start with the tenant id, so another tenant's job or document is "not_found" here.
 * - Idempotent by content hash: when rag already holds the document with the same hash, the job
 *   is "unchanged" from the start: nothing is stored, embedded or indexed. Otherwise the new
 *   version is above both rag's version and any version file already in R2.
 * - Expected failures are RpcResult values; a throw is a bug.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import {
  DOCUMENT_ID_PATTERN,
  fail,
  ok,
  type DocumentRecord,
  type IngestInput,
  type IngestJob,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { isTransient, ragIndex, type DocumentIndex } from "./document-index";
import { JOB_ID_PATTERN, newJobId } from "./ids";
import { jobStub } from "./names";
import { prepareIngest } from "./prepare";
import { deleteRawFiles, listRawFiles, storeNewVersion } from "./raw-files";

/** How long `ingest(…, { wait: true })` waits for the job to end before returning it as it is. */
export const WAIT_MS = 10_000;

export interface PingReply {
  worker: "ingest";
  tenantId: string;
  requestId: string;
}

export interface IngestOptions {
  /** Wait up to WAIT_MS for the job to end (done, unchanged or failed) before answering. */
  wait: boolean;
}

export class IngestService extends WorkerEntrypoint<IngestEnv> {
  /** Proves the RPC path: echoes which tenant and request reached this worker. */
  async ping(tenant: TenantContext): Promise<RpcResult<PingReply>> {
    return ok({ worker: "ingest", tenantId: tenant.tenantId, requestId: tenant.requestId });
  }

  /** Starts ingesting a text or file as a document (new, or a new version of `input.id`); returns its job. */
  async ingest(
    tenant: TenantContext,
    input: IngestInput,
    options: IngestOptions = { wait: false },
  ): Promise<RpcResult<IngestJob>> {
    const prepared = await prepareIngest(input);
    if (!prepared.ok) return prepared;
    const { kind, bytes, fileName, document } = prepared.value;
    const current = await currentDocument(this.#index(), tenant, document.id);
    if (!current.ok) return current;

    const jobId = newJobId();
    const job = jobStub(this.env, tenant.tenantId, jobId);
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
  async job(tenant: TenantContext, jobId: string): Promise<RpcResult<IngestJob>> {
    const missing = fail("not_found", `ingest job "${String(jobId).slice(0, 64)}" does not exist`);
    if (typeof jobId !== "string" || !JOB_ID_PATTERN.test(jobId)) return missing;
    const status = await jobStub(this.env, tenant.tenantId, jobId).status();
    return status ? ok(status) : missing;
  }

  /** Deletes a document: its chunks and vectors (in rag) and every stored version's raw file. */
  async deleteDocument(tenant: TenantContext, docId: string): Promise<RpcResult<{ id: string; deleted: true }>> {
    const missing = fail("not_found", `document "${String(docId).slice(0, 96)}" does not exist`);
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

  /** No HTTP surface: this worker is reached over RPC only. */
  override async fetch(): Promise<Response> {
    return Response.json(fail("not_found", "crispy-ingest has no HTTP routes; use RPC"), { status: 404 });
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
  return fail(
    "upstream_unavailable",
    `the rag worker could not be reached: ${error instanceof Error ? error.message : String(error)}`,
  );
}

function ragRefused(error: { code: string; message: string }): ReturnType<typeof fail> {
  return fail(
    isTransient(error.code) ? "upstream_unavailable" : "internal",
    `rag answered ${error.code}: ${error.message}`,
  );
}
