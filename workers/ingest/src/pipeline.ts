/**
 * One run of an ingest job's pipeline: parse → chunk → embed (in batches) → index. Every step
 * persists its result in the JobStore before the next begins, so a run that stops (a failure, an
 * eviction) resumes where it stopped: parsing and chunking happen once, embedding continues with
 * the chunks that have no vector yet, and indexing replaces the document's chunks in rag in one
 * call.
 *
 * Failures are thrown as `JobFailure` (code, message, retryable); the IngestJob Durable Object
 * decides whether to retry. Anything else thrown (an RPC or R2 error) counts as retryable.
 *
 * Invariants:
 * - rag is written only at the index step, with every chunk at once; nothing before it touches
 *   the index, so a job that fails earlier leaves rag as it was.
 * - A job never overwrites a newer version, nor brings back a deleted document: if its raw file
 *   is gone (deleted with the document, or with older versions once a newer one was indexed) or
 *   rag already holds a later version when it is about to index, it fails with "conflict".
 * - After indexing, R2 keeps only this version's file and any newer one.
 *
 * Each step is a span (parse, chunk, embed, index; a resumed run has only the steps it ran); a
 * finished run writes one `ingest.job_done` log line with them and the request's tenant, request
 * and trace ids — the job runs after its request answered, so this line is how its steps are seen.
 */
import { AiError, callMeta, type ResilientAi } from "@crispy/ai";
import { type ErrorCode, RETRIEVAL_LIMITS } from "@crispy/contracts";
import { log, logFieldsOf, now, Spans, type SpanTimings } from "@crispy/observability";
import { chunkDocument } from "./chunk";
import { isTransient, type DocumentIndex } from "./document-index";
import type { JobPlan, JobStore } from "./job-store";
import { parseDocument } from "./parse";
import { deleteRawFiles, listRawFiles } from "./raw-files";

/** Texts per embedding call. */
export const EMBED_BATCH_SIZE = 32;

export class JobFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface PipelineDeps {
  store: JobStore;
  bucket: R2Bucket;
  index: DocumentIndex;
  ai: ResilientAi;
  jobId: string;
  /** Called after each persisted step or batch (the job refreshes its watchdog alarm). */
  onProgress?: () => Promise<void>;
}

/** Runs the job from where it stands to "done" (returning the run's step spans), or throws a JobFailure. */
export async function runPipeline(deps: PipelineDeps): Promise<SpanTimings> {
  const { store } = deps;
  const plan = store.plan();
  if (!plan) throw new JobFailure("internal", "the job has no plan", false);
  const spans = new Spans();
  if (!store.chunked()) await parseAndChunk(deps, plan, spans);
  let started = now();
  await embedPending(deps, plan);
  spans.end("embed", started);
  started = now();
  await indexDocument(deps, plan);
  await dropOlderFiles(deps, plan);
  spans.end("index", started);
  store.dropChunks();
  store.update({ state: "done", step: null, error: null });
  const timings = spans.timings();
  log("info", "ingest.job_done", {
    ...logFieldsOf(plan.tenant),
    jobId: deps.jobId,
    docId: plan.document.id,
    version: plan.document.version,
    timings,
  });
  return timings;
}

async function parseAndChunk(deps: PipelineDeps, plan: JobPlan, spans: Spans): Promise<void> {
  const { store, bucket } = deps;
  const { document } = plan;
  store.update({ state: "running", step: "parse" });
  if (!plan.rawKey) throw new JobFailure("internal", "the job has no raw file to parse", false);
  let started = now();
  const object = await bucket.get(plan.rawKey);
  if (!object) throw superseded(document.id);
  const parsed = await parseDocument(plan.kind, new Uint8Array(await object.arrayBuffer()));
  spans.end("parse", started);
  if (!parsed.ok) throw new JobFailure(parsed.error.code, parsed.error.message, false);
  store.update({ step: "chunk" });
  started = now();
  const chunks = chunkDocument(parsed.value, { docId: document.id, version: document.version });
  spans.end("chunk", started);
  if (chunks.length === 0) throw new JobFailure("bad_request", "the document has no text to index", false);
  const { maxChunksPerDocument } = RETRIEVAL_LIMITS;
  if (chunks.length > maxChunksPerDocument) {
    // Refused before a single chunk is embedded: rag would refuse the whole document anyway.
    throw new JobFailure(
      "bad_request",
      `the document makes ${chunks.length} chunks; the limit is ${maxChunksPerDocument} (split it into smaller documents)`,
      false,
    );
  }
  store.saveChunks(chunks);
  await deps.onProgress?.();
}

async function embedPending(deps: PipelineDeps, plan: JobPlan): Promise<void> {
  const { store, ai } = deps;
  const { tenant, document } = plan;
  const { model, dimensions } = tenant.config.ai.embeddings;
  store.update({ state: "running", step: "embed" });
  for (;;) {
    const batch = store.pendingChunks(EMBED_BATCH_SIZE);
    if (batch.length === 0) return;
    const texts = batch.map((chunk) => embeddingInput(document.title, chunk.headingPath, chunk.text));
    let vectors: number[][];
    try {
      ({ vectors } = await ai.embed(
        { model, texts, dimensions },
        callMeta(tenant, { jobId: deps.jobId, docId: document.id }),
      ));
    } catch (error) {
      if (error instanceof AiError) throw new JobFailure("ai_unavailable", error.message, error.retryable);
      throw error;
    }
    if (vectors.length !== texts.length) {
      throw new JobFailure(
        "ai_unavailable",
        `${model} returned ${vectors.length} vectors for ${texts.length} texts`,
        true,
      );
    }
    store.saveVectors(batch.map((chunk, i) => ({ seq: chunk.seq, vector: vectors[i]! })));
    await deps.onProgress?.();
  }
}

async function indexDocument(deps: PipelineDeps, plan: JobPlan): Promise<void> {
  const { store, index } = deps;
  const { tenant, document } = plan;
  store.update({ step: "index" });
  if (plan.rawKey && !(await deps.bucket.head(plan.rawKey))) throw superseded(document.id);
  const current = await index.getDocument(tenant, document.id);
  if (current.ok) {
    if (current.value.version > document.version) {
      throw new JobFailure(
        "conflict",
        `document "${document.id}" is already at version ${current.value.version}, newer than this job's ${document.version}`,
        false,
      );
    }
    // A retry after an upsert that landed but whose answer was lost: nothing left to write.
    if (current.value.version === document.version && current.value.contentHash === document.contentHash) return;
  } else if (current.error.code !== "not_found") {
    throw ragFailure(current.error);
  }
  const upserted = await index.upsertDocument(tenant, document, store.indexedChunks(document.id, document.version));
  if (!upserted.ok) throw ragFailure(upserted.error);
}

async function dropOlderFiles(deps: PipelineDeps, plan: JobPlan): Promise<void> {
  const { tenant, document } = plan;
  const files = await listRawFiles(deps.bucket, tenant.tenantId, document.id);
  await deleteRawFiles(
    deps.bucket,
    files.filter((file) => file.version < document.version).map((file) => file.key),
  );
}

/** What a chunk is embedded as: its text under a header naming the document and its section. */
export function embeddingInput(title: string, headingPath: readonly string[], text: string): string {
  const header = [title, ...headingPath].filter((part) => part !== "").join(" › ");
  return header ? `${header}\n\n${text}` : text;
}

/**
 * The job's raw file is gone: the document was deleted, or a newer version was indexed (which
 * deletes older versions' files), while this job waited. Indexing now would undo either.
 */
function superseded(docId: string): JobFailure {
  return new JobFailure(
    "conflict",
    `document "${docId}" was deleted or replaced by a newer version while this job ran`,
    false,
  );
}

function ragFailure(error: { code: string; message: string }): JobFailure {
  const message = `rag answered ${error.code}: ${error.message}`;
  // rag refuses a version older than the one it holds: a newer ingest won the race.
  if (error.code === "conflict") return new JobFailure("conflict", message, false);
  const transient = isTransient(error.code);
  return new JobFailure(transient ? "upstream_unavailable" : "internal", message, transient);
}
