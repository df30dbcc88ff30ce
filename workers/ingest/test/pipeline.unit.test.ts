/**
 * The job pipeline on real job storage (a Durable Object's SQLite) and real local R2, with a fake
 * rag index and a counting embedder, for the paths the real rag cannot be made to take on demand:
 * a run cut off mid-way and resumed, a lost upsert answer, a newer version already indexed.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createAi, createLocalProvider, type ResilientAi } from "@crispy/ai";
import { fail, ok, RETRIEVAL_LIMITS, type DocumentRecord, type IndexedChunk, type RpcResult } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import type { DocumentIndex, NewDocument } from "../src/document-index";
import { newJobId } from "../src/ids";
import { JobStore } from "../src/job-store";
import { EMBED_BATCH_SIZE, JobFailure, runPipeline } from "../src/pipeline";
import { rawFileKey } from "../src/raw-files";
import { makeTenant } from "./tenant";

const tenant = makeTenant();

/** A rag stand-in holding documents in memory; `failNext` makes the next call answer that error. */
class FakeIndex implements DocumentIndex {
  readonly documents = new Map<string, { record: DocumentRecord; chunks: IndexedChunk[] }>();
  upserts = 0;
  failNext: { code: "upstream_unavailable" | "bad_request"; thrown?: boolean } | null = null;

  async getDocument(_tenant: unknown, docId: string): Promise<RpcResult<DocumentRecord>> {
    const found = this.documents.get(docId);
    return found ? ok(found.record) : fail("not_found", "no such document");
  }

  async upsertDocument(_tenant: unknown, doc: NewDocument, chunks: IndexedChunk[]) {
    const failure = this.failNext;
    this.failNext = null;
    if (failure?.thrown) throw new Error("connection reset");
    if (failure) return fail(failure.code, "refused");
    this.upserts++;
    const now = new Date().toISOString();
    this.documents.set(doc.id, {
      record: { ...doc, chunkCount: chunks.length, createdAt: now, updatedAt: now },
      chunks,
    });
    return ok({ indexVersion: this.upserts, unchanged: false });
  }

  async deleteDocument(_tenant: unknown, docId: string) {
    return this.documents.delete(docId)
      ? ok({ id: docId, deleted: true as const, indexVersion: 0 })
      : fail("not_found", "no such document");
  }
}

/** The local embedder, counting batches; `failOnCall` makes that call (1-based) fail transiently. */
function countingAi(failOnCall?: number): ResilientAi & { batches: number[] } {
  const inner = createAi(createLocalProvider(), { retries: 0 });
  const batches: number[] = [];
  return {
    batches,
    chatStream: inner.chatStream,
    chat: inner.chat,
    speech: inner.speech,
    async embed(request, meta) {
      if (batches.length + 1 === failOnCall) {
        failOnCall = undefined;
        return inner.embed({ ...request, model: "local/fail-always" }, meta);
      }
      batches.push(request.texts.length);
      return inner.embed(request, meta);
    },
  };
}

function paragraphs(count: number): string {
  return Array.from(
    { length: count },
    (_, p) => `Paragraph ${p}. ${"The courier collects every parcel at noon. ".repeat(12)}`,
  ).join("\n\n");
}

/** Runs `body` with the JobStore of a fresh job (not started: no alarm runs it meanwhile). */
async function withJob<T>(
  text: string,
  version: number,
  body: (store: JobStore, jobId: string, doc: NewDocument) => Promise<T>,
  kind: "text" | "markdown" = "text",
): Promise<T> {
  const jobId = newJobId();
  const docId = `doc-${crypto.randomUUID().slice(0, 8)}`;
  const rawKey = rawFileKey(tenant.tenantId, docId, version, "source.txt");
  await env.DOCUMENTS.put(rawKey, text);
  const document: NewDocument = {
    id: docId,
    title: "Courier guide",
    source: null,
    url: null,
    metadata: {},
    contentHash: `hash-${version}`,
    version,
    contentType: "text/plain",
    bytes: text.length,
  };
  const stub = env.INGEST_JOB.getByName(`${tenant.tenantId}:${jobId}`);
  return runInDurableObject(stub, async (_instance, state) => {
    const store = new JobStore(state.storage);
    store.create({ jobId, state: "queued", plan: { tenant, rawKey, kind, document } });
    return body(store, jobId, document);
  });
}

describe("runPipeline", () => {
  it("refuses a document cut into more chunks than a document may have, before embedding any", async () => {
    const headings = Array.from(
      { length: RETRIEVAL_LIMITS.maxChunksPerDocument + 1 },
      (_, n) => `# Part ${n}\nText ${n}.`,
    );
    await withJob(
      headings.join("\n"),
      1,
      async (store, jobId) => {
        const ai = countingAi();
        const deps = { store, bucket: env.DOCUMENTS, index: new FakeIndex(), ai, jobId };
        await expect(runPipeline(deps)).rejects.toMatchObject({ code: "bad_request", retryable: false });
        expect(ai.batches).toEqual([]);
      },
      "markdown",
    );
  });

  it("embeds in batches and resumes an interrupted run without redoing finished work", async () => {
    await withJob(paragraphs(60), 1, async (store, jobId) => {
      const index = new FakeIndex();
      const ai = countingAi(2);
      const deps = { store, bucket: env.DOCUMENTS, index, ai, jobId };

      // First run: the second embedding batch fails; the first batch's vectors are kept.
      await expect(runPipeline(deps)).rejects.toMatchObject({ code: "ai_unavailable", retryable: true });
      const cut = store.status()!;
      expect(cut).toMatchObject({ state: "running", step: "embed", chunksDone: EMBED_BATCH_SIZE });
      expect(cut.chunksTotal).toBeGreaterThan(EMBED_BATCH_SIZE);

      // Second run: rag drops the connection at the index step, after every chunk is embedded.
      index.failNext = { code: "upstream_unavailable", thrown: true };
      await expect(runPipeline(deps)).rejects.toThrow("connection reset");
      expect(store.status()).toMatchObject({ step: "index", chunksDone: cut.chunksTotal });

      // Third run: only the index step is left.
      await runPipeline(deps);
      const done = store.status()!;
      expect(done).toMatchObject({
        state: "done",
        step: null,
        chunksDone: cut.chunksTotal,
        chunksTotal: cut.chunksTotal,
      });
      expect(ai.batches).toEqual([EMBED_BATCH_SIZE, cut.chunksTotal - EMBED_BATCH_SIZE]);
      const indexed = [...index.documents.values()][0]!;
      expect(index.upserts).toBe(1);
      expect(indexed.chunks.map((c) => c.provenance.start)).toEqual(
        [...indexed.chunks.map((c) => c.provenance.start)].sort((a, b) => a - b),
      );
      expect(indexed.chunks.every((c) => c.vector.length === 64)).toBe(true);
      expect(store.chunked()).toBe(false);
    });
  });

  it("does not write again when rag already holds this version (an upsert whose answer was lost)", async () => {
    await withJob("A short guide.", 2, async (store, jobId, doc) => {
      const index = new FakeIndex();
      await index.upsertDocument(tenant, doc, []);
      await runPipeline({ store, bucket: env.DOCUMENTS, index, ai: countingAi(), jobId });
      expect(store.status()!.state).toBe("done");
      expect(index.upserts).toBe(1);
    });
  });

  it("refuses to overwrite a newer version in rag", async () => {
    await withJob("An old guide.", 2, async (store, jobId, doc) => {
      const index = new FakeIndex();
      await index.upsertDocument(tenant, { ...doc, version: 5, contentHash: "newer" }, []);
      const run = runPipeline({ store, bucket: env.DOCUMENTS, index, ai: countingAi(), jobId });
      await expect(run).rejects.toBeInstanceOf(JobFailure);
      await expect(run).rejects.toMatchObject({ code: "conflict", retryable: false });
      expect(index.documents.get(doc.id)!.record.version).toBe(5);
    });
  });

  it("does not bring back a document deleted (or superseded) while its job ran", async () => {
    await withJob("Deleted before the job started.", 1, async (store, jobId, doc) => {
      await env.DOCUMENTS.delete(rawFileKey(tenant.tenantId, doc.id, 1, "source.txt"));
      const run = runPipeline({ store, bucket: env.DOCUMENTS, index: new FakeIndex(), ai: countingAi(), jobId });
      await expect(run).rejects.toMatchObject({
        code: "conflict",
        retryable: false,
        message: expect.stringContaining("deleted or replaced"),
      });
    });
    await withJob("Deleted while it was being embedded.", 1, async (store, jobId, doc) => {
      const index = new FakeIndex();
      const ai = countingAi();
      const embed = ai.embed;
      ai.embed = async (request, meta) => {
        await env.DOCUMENTS.delete(rawFileKey(tenant.tenantId, doc.id, 1, "source.txt"));
        return embed(request, meta);
      };
      await expect(runPipeline({ store, bucket: env.DOCUMENTS, index, ai, jobId })).rejects.toMatchObject({
        code: "conflict",
      });
      expect(store.status()!.step).toBe("index");
      expect(index.upserts).toBe(0);
    });
  });

  it("tells transient rag refusals (retry) from permanent ones (fail now)", async () => {
    await withJob("A guide.", 1, async (store, jobId) => {
      const index = new FakeIndex();
      const deps = { store, bucket: env.DOCUMENTS, index, ai: countingAi(), jobId };
      index.failNext = { code: "upstream_unavailable" };
      await expect(runPipeline(deps)).rejects.toMatchObject({ code: "upstream_unavailable", retryable: true });
      index.failNext = { code: "bad_request" };
      await expect(runPipeline(deps)).rejects.toMatchObject({
        code: "internal",
        retryable: false,
        message: expect.stringContaining("bad_request"),
      });
    });
  });

  it("deletes the stored files of older versions once a version is indexed", async () => {
    await withJob("Version three.", 3, async (store, jobId, doc) => {
      const older = rawFileKey(tenant.tenantId, doc.id, 2, "old.txt");
      const newer = rawFileKey(tenant.tenantId, doc.id, 4, "next.txt");
      await env.DOCUMENTS.put(older, "v2");
      await env.DOCUMENTS.put(newer, "v4 still running");
      await runPipeline({ store, bucket: env.DOCUMENTS, index: new FakeIndex(), ai: countingAi(), jobId });
      const { objects } = await env.DOCUMENTS.list({ prefix: `${tenant.tenantId}/documents/${doc.id}/` });
      expect(objects.map((o) => o.key)).toEqual([rawFileKey(tenant.tenantId, doc.id, 3, "source.txt"), newer]);
    });
  });
});
