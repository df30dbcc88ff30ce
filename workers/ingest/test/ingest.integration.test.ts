import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { RETRIEVAL_LIMITS, type IngestInput, type IngestJob, type TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS } from "../src/job";
import { JobStore } from "../src/job-store";
import { makePdf } from "./pdf";
import { FAIL_ALWAYS, failure, file, makeTenant, unwrap } from "./tenant";

const ingest = exports.default;

async function ingestAndWait(tenant: TenantContext, input: IngestInput): Promise<IngestJob> {
  return unwrap(await ingest.ingest(tenant, input, { wait: true }));
}

/** Every R2 key of the tenant, with its custom metadata. */
async function storedFiles(tenant: TenantContext) {
  const listed = await env.DOCUMENTS.list({ prefix: `${tenant.tenantId}/` });
  return Promise.all(
    listed.objects.map(async (o) => ({ key: o.key, metadata: (await env.DOCUMENTS.head(o.key))!.customMetadata })),
  );
}

function longText(topic: string, paragraphs: number): string {
  return Array.from(
    { length: paragraphs },
    (_, p) =>
      `${topic} paragraph ${p}. ` +
      Array.from(
        { length: 8 },
        (_, s) => `The ${topic} rule number ${p}.${s} applies to every parcel shipped from the warehouse.`,
      ).join(" "),
  ).join("\n\n");
}

describe("ingest → rag", () => {
  it("indexes a text, and re-ingesting the same content is unchanged", async () => {
    const tenant = makeTenant();
    const text = longText("refund", 12);
    const job = await ingestAndWait(tenant, { id: "handbook", title: "Handbook", text, metadata: { team: "support" } });
    expect(job).toMatchObject({ docId: "handbook", state: "done", step: null, version: 1, error: null });
    expect(job.id).toMatch(/^job_[0-9a-f]{32}$/);
    expect(job.chunksTotal).toBeGreaterThan(1);
    expect(job.chunksDone).toBe(job.chunksTotal);
    expect(unwrap(await ingest.job(tenant, job.id))).toEqual(job);

    const record = unwrap(await env.RAG.getDocument(tenant, "handbook"));
    expect(record).toMatchObject({
      id: "handbook",
      title: "Handbook",
      version: 1,
      chunkCount: job.chunksTotal,
      contentType: "text/plain",
      bytes: new TextEncoder().encode(text).byteLength,
      metadata: { team: "support" },
    });
    expect(record.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const hits = unwrap(await env.RAG.retrieve(tenant, { query: "refund rule number 7.3", topK: 3 }));
    expect(hits[0]!.docId).toBe("handbook");
    expect(text.slice(hits[0]!.provenance.start, hits[0]!.provenance.end)).toBe(hits[0]!.text);

    const again = await ingestAndWait(tenant, {
      id: "handbook",
      title: "Handbook",
      text,
      metadata: { team: "support" },
    });
    expect(again).toMatchObject({
      docId: "handbook",
      state: "unchanged",
      version: 1,
      chunksDone: 0,
      chunksTotal: 0,
      error: null,
    });
    expect(again.id).not.toBe(job.id);
    expect(unwrap(await env.RAG.getDocument(tenant, "handbook"))).toEqual(record);
    expect((await storedFiles(tenant)).map((f) => f.key)).toEqual([
      `${tenant.tenantId}/documents/handbook/v1/source.txt`,
    ]);
  });

  it("makes changed content version 2, replacing rag's chunks and the stored file", async () => {
    const tenant = makeTenant();
    const first = await ingestAndWait(tenant, { id: "policy", text: longText("shipping", 6) });
    expect(first).toMatchObject({ state: "done", version: 1 });
    const second = await ingestAndWait(tenant, { id: "policy", text: longText("returns", 3) });
    expect(second).toMatchObject({ state: "done", version: 2 });

    const record = unwrap(await env.RAG.getDocument(tenant, "policy"));
    expect(record).toMatchObject({ version: 2, chunkCount: second.chunksTotal });
    const hits = unwrap(await env.RAG.retrieve(tenant, { query: "shipping rule warehouse parcel", topK: 10 }));
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit.provenance.version).toBe(2);
      expect(hit.text).not.toContain("shipping");
    }
    // Exactly the latest version's file, under the tenant prefix, labelled with its hash.
    expect(await storedFiles(tenant)).toEqual([
      {
        key: `${tenant.tenantId}/documents/policy/v2/source.txt`,
        metadata: {
          tenantId: tenant.tenantId,
          docId: "policy",
          version: "2",
          contentHash: record.contentHash,
          jobId: second.id,
        },
      },
    ]);
    // A change of title alone is a change of content too.
    const retitled = await ingestAndWait(tenant, { id: "policy", title: "Returns", text: longText("returns", 3) });
    expect(retitled).toMatchObject({ state: "done", version: 3 });
  });

  it("gives concurrent ingests of one document distinct versions; the newest wins everywhere", async () => {
    const tenant = makeTenant();
    const inputs: IngestInput[] = [
      { id: "race", text: "First writer." },
      { id: "race", text: "Second writer." },
      { id: "race", ...file("a.txt", "text/plain", "Third writer.") },
      { id: "race", ...file("b.txt", "text/plain", "Fourth writer.") },
    ];
    const jobs = await Promise.all(inputs.map((input) => ingestAndWait(tenant, input)));
    expect(new Set(jobs.map((j) => j.version)).size).toBe(4);
    const newest = Math.max(...jobs.map((j) => j.version));
    for (const job of jobs) {
      // An older version that reached rag after a newer one is refused, not written over it.
      if (job.state === "failed") expect(job.error!.code).toBe("conflict");
      else expect(job.state).toBe("done");
    }
    expect(jobs.find((j) => j.version === newest)!.state).toBe("done");
    expect(unwrap(await env.RAG.getDocument(tenant, "race")).version).toBe(newest);
    const files = await storedFiles(tenant);
    expect(files).toHaveLength(1);
    expect(files[0]!.metadata!.version).toBe(String(newest));
  });

  it("deletes a document's chunks and files; another tenant can neither see the job nor delete it", async () => {
    const owner = makeTenant();
    const other = makeTenant();
    const job = await ingestAndWait(owner, { id: "secret", text: "The vault code is kept in the safe." });
    expect(job.state).toBe("done");

    expect(failure(await ingest.job(other, job.id)).code).toBe("not_found");
    expect(failure(await ingest.deleteDocument(other, "secret")).code).toBe("not_found");
    expect(unwrap(await env.RAG.getDocument(owner, "secret")).version).toBe(1);
    expect(await storedFiles(owner)).toHaveLength(1);

    expect(unwrap(await ingest.deleteDocument(owner, "secret"))).toEqual({ id: "secret", deleted: true });
    expect(failure(await env.RAG.getDocument(owner, "secret")).code).toBe("not_found");
    expect(await storedFiles(owner)).toEqual([]);
    expect(failure(await ingest.deleteDocument(owner, "secret")).code).toBe("not_found");
    expect(failure(await ingest.job(owner, "job_nope")).code).toBe("not_found");
  });

  it("looks unknown job ids up without creating any storage for them", async () => {
    const tenant = makeTenant();
    const job = await ingestAndWait(tenant, { text: "One real job, so the tenant's directory exists." });
    const before = (await listDurableObjectIds(env.INGEST_JOB)).length;
    for (let i = 0; i < 20; i++) {
      const random = `job_${crypto.randomUUID().replaceAll("-", "")}`;
      expect(failure(await ingest.job(tenant, random)).code).toBe("not_found");
    }
    expect((await listDurableObjectIds(env.INGEST_JOB)).length).toBe(before);
    // The real job is still found.
    expect(unwrap(await ingest.job(tenant, job.id)).state).toBe("done");
  });

  it("runs in the background without wait; job() reports progress until done", async () => {
    const tenant = makeTenant();
    const started = unwrap(
      await ingest.ingest(tenant, { title: "Guide", text: longText("courier", 60) }, { wait: false }),
    );
    expect(["queued", "running"]).toContain(started.state);
    expect(started.docId).toMatch(/^guide-[0-9a-f]{8}$/);
    let job = started;
    const seen = new Set<string>();
    for (let i = 0; i < 200 && job.state !== "done"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      job = unwrap(await ingest.job(tenant, started.id));
      seen.add(`${job.state}/${job.step}`);
      expect(job.chunksDone).toBeLessThanOrEqual(job.chunksTotal);
    }
    expect(job).toMatchObject({ state: "done", chunksDone: job.chunksTotal });
    expect(job.chunksTotal).toBeGreaterThan(32);
    expect(seen.has("done/null")).toBe(true);
  });

  it("forgets a finished job once its retention has passed; the document stays", async () => {
    const tenant = makeTenant();
    const job = await ingestAndWait(tenant, { text: "A short-lived job." });
    const stub = env.INGEST_JOB.getByName(`${tenant.tenantId}:${job.id}`);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE job SET updated_at = ?", Date.now() - 8 * 86_400_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(failure(await ingest.job(tenant, job.id)).code).toBe("not_found");
    expect(unwrap(await env.RAG.getDocument(tenant, job.docId)).version).toBe(1);
  });

  it("indexes uploads: a PDF with page numbers, Markdown with heading paths", async () => {
    const tenant = makeTenant();
    const pdf = makePdf([["Page one talks about tea."], ["Page two talks about coffee."]]);
    const pdfJob = await ingestAndWait(tenant, { ...file("Menu.pdf", "application/pdf", pdf), source: "upload" });
    expect(pdfJob).toMatchObject({ state: "done", version: 1 });
    expect(pdfJob.docId).toMatch(/^menu-[0-9a-f]{8}$/);
    const coffee = unwrap(await env.RAG.retrieve(tenant, { query: "coffee", topK: 1 }));
    expect(coffee[0]).toMatchObject({ docId: pdfJob.docId, title: "Menu.pdf", provenance: { page: 2 } });
    const pdfRecord = unwrap(await env.RAG.getDocument(tenant, pdfJob.docId));
    expect(pdfRecord).toMatchObject({ contentType: "application/pdf", bytes: pdf.byteLength, source: "upload" });
    expect((await storedFiles(tenant)).map((f) => f.key)).toEqual([
      `${tenant.tenantId}/documents/${pdfJob.docId}/v1/Menu.pdf`,
    ]);

    const markdown =
      "# Handbook\n\n## Holidays\n\nStaff get 25 days of leave.\n\n## Expenses\n\nReceipts within 30 days.";
    const mdJob = await ingestAndWait(tenant, { id: "hb", ...file("hand book (v2).md", "text/plain", markdown) });
    expect(mdJob.state).toBe("done");
    const expenses = unwrap(
      await env.RAG.retrieve(tenant, { query: "receipts expenses", topK: 1, filter: { docId: "hb" } }),
    );
    expect(expenses[0]).toMatchObject({ title: "Handbook", provenance: { headingPath: ["Handbook", "Expenses"] } });
    expect((await storedFiles(tenant)).map((f) => f.key)).toContain(
      `${tenant.tenantId}/documents/hb/v1/hand_book_v2_.md`,
    );
  });

  it("reads JSON text as Markdown or HTML when told; the format is part of the content", async () => {
    const tenant = makeTenant();
    const text = "# Handbook\n\n## Expenses\n\nReceipts within 30 days.";
    const asMarkdown = await ingestAndWait(tenant, { id: "hb", text, format: "markdown" });
    expect(asMarkdown).toMatchObject({ state: "done", version: 1 });
    const [chunk] = unwrap(await env.RAG.retrieve(tenant, { query: "receipts", topK: 1, filter: { docId: "hb" } }));
    expect(chunk).toMatchObject({ title: "Handbook", provenance: { headingPath: ["Handbook", "Expenses"] } });
    expect(unwrap(await env.RAG.getDocument(tenant, "hb")).contentType).toBe("text/markdown");
    expect((await storedFiles(tenant)).map((f) => f.key)).toEqual([`${tenant.tenantId}/documents/hb/v1/source.md`]);

    // The same characters as plain text chunk differently: a new version, not "unchanged".
    const asText = await ingestAndWait(tenant, { id: "hb", text });
    expect(asText).toMatchObject({ state: "done", version: 2 });
    const [plain] = unwrap(await env.RAG.retrieve(tenant, { query: "receipts", topK: 1, filter: { docId: "hb" } }));
    expect(plain!.provenance.headingPath).toEqual([]);
    expect(unwrap(await env.RAG.getDocument(tenant, "hb")).contentType).toBe("text/plain");

    const refused = await ingest.ingest(tenant, { text, format: "pdf" as never }, { wait: true });
    expect(failure(refused)).toMatchObject({ code: "bad_request", message: expect.stringContaining("format") });
  });

  it("retries a failing embedding model, then fails the job and leaves rag and R2 untouched", async () => {
    const tenant = makeTenant({ embeddingsModel: FAIL_ALWAYS });
    const job = await ingestAndWait(tenant, { id: "doomed", text: "This text can never be embedded." });
    expect(job).toMatchObject({ state: "failed", docId: "doomed", step: "embed", chunksDone: 0, chunksTotal: 1 });
    expect(job.error).toMatchObject({ code: "ai_unavailable", message: expect.stringContaining("local/fail-always") });
    const stub = env.INGEST_JOB.getByName(`${tenant.tenantId}:${job.id}`);
    expect(await runInDurableObject(stub, (_instance, state) => new JobStore(state.storage).attempts())).toBe(
      MAX_ATTEMPTS,
    );
    expect(failure(await env.RAG.getDocument(tenant, "doomed")).code).toBe("not_found");
    expect(await storedFiles(tenant)).toEqual([]);
  });

  it("a failed new version leaves the previous version indexed and stored", async () => {
    const tenant = makeTenant();
    expect((await ingestAndWait(tenant, { id: "kept", text: "Version one." })).state).toBe("done");
    const failing = {
      ...tenant,
      config: { ...tenant.config, ai: { ...tenant.config.ai, embeddings: { model: FAIL_ALWAYS, dimensions: 64 } } },
    };
    expect((await ingestAndWait(failing, { id: "kept", text: "Version two." })).state).toBe("failed");
    expect(unwrap(await env.RAG.getDocument(tenant, "kept")).version).toBe(1);
    expect((await storedFiles(tenant)).map((f) => f.key)).toEqual([`${tenant.tenantId}/documents/kept/v1/source.txt`]);
  });
});

describe("ingest refusals", () => {
  const tenant = makeTenant();

  it("refuses oversize uploads and texts with payload_too_large", async () => {
    const big = new Uint8Array(RETRIEVAL_LIMITS.maxUploadBytes + 1).fill(0x61);
    expect(failure(await ingest.ingest(tenant, file("big.txt", "text/plain", big), { wait: false }))).toMatchObject({
      code: "payload_too_large",
      details: { limitBytes: RETRIEVAL_LIMITS.maxUploadBytes },
    });
    const long = "word ".repeat(RETRIEVAL_LIMITS.maxTextChars / 5 + 1);
    expect(failure(await ingest.ingest(tenant, { text: long }, { wait: false })).code).toBe("payload_too_large");
    // Within the byte limit, but more text than maxTextChars once parsed.
    const wide = new TextEncoder().encode("ab ".repeat(RETRIEVAL_LIMITS.maxTextChars / 3 + 1));
    expect(failure(await ingest.ingest(tenant, file("wide.txt", "text/plain", wide), { wait: false })).code).toBe(
      "payload_too_large",
    );
    expect(await storedFiles(tenant)).toEqual([]);
  });

  it("refuses unsupported types with unsupported_media_type, and bad input with bad_request", async () => {
    const png = failure(
      await ingest.ingest(tenant, file("photo.png", "image/png", new Uint8Array([137, 80, 78, 71])), { wait: false }),
    );
    expect(png).toMatchObject({ code: "unsupported_media_type", message: expect.stringContaining(".pdf") });
    const cases: IngestInput[] = [
      {},
      { text: "both", ...file("a.txt", "text/plain", "file") },
      { text: "   \n " },
      { id: "bad/id", text: "x" },
      file("empty.txt", "text/plain", ""),
      file("broken.json", "application/json", "{ nope"),
      // Found against the running platform: 20,000 levels overflowed the parser's stack (a 503).
      file("deep.json", "application/json", "[".repeat(20_000) + "]".repeat(20_000)),
      file("deep-objects.json", "application/json", `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`),
      file("scan.pdf", "application/pdf", "not a pdf"),
    ];
    for (const input of cases)
      expect(failure(await ingest.ingest(tenant, input, { wait: false })).code).toBe("bad_request");
    expect(await storedFiles(tenant)).toEqual([]);
  });
});
