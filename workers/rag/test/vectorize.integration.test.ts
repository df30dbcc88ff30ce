/**
 * The vectorize backend end to end — RagService over the real TenantIndex, with VECTOR_BACKEND
 * "vectorize" and the in-memory FakeVectorize standing in for the binding (Vectorize cannot run
 * offline).
 */
import { env } from "cloudflare:workers";
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import type { TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { aiFromEnv } from "../src/ai";
import { retrieveChunks } from "../src/retrieve";
import RagService from "../src/index";
import { createVectorizeBackend, vectorId } from "../src/vectors/vectorize";
import { makeDocument } from "./documents";
import { FakeVectorize } from "./fake-vectorize";
import { failure, makeTenant, unwrap } from "./tenant";

function setup() {
  const fake = new FakeVectorize();
  const vectorEnv = { ...env, VECTOR_BACKEND: "vectorize", VECTORIZE: fake } as unknown as RagEnv;
  const service = new RagService(createExecutionContext(), vectorEnv);
  /** Vector-only retrieval through the vectorize backend (no BM25 to help). */
  const nearest = async (
    tenant: TenantContext,
    query: string,
    options: { topK?: number; filter?: Record<string, string> } = {},
  ) =>
    unwrap(
      await retrieveChunks(
        { env: vectorEnv, ai: aiFromEnv(vectorEnv), backend: createVectorizeBackend(fake), reranker: null },
        tenant,
        { query, topK: options.topK ?? 5, filter: options.filter },
        "vector",
      ),
    );
  return { fake, service, nearest };
}

describe("vectorize backend", () => {
  it("derives ids of at most 64 bytes that carry the tenant", async () => {
    expect(await vectorId("acme", "handbook", 3, 7)).toBe("acme:handbook#3#7");
    const long = await vectorId("a".repeat(48), "d".repeat(96), 12, 345);
    expect(long).toMatch(/^h:[A-Za-z0-9_-]{43}$/);
    expect(await vectorId("a".repeat(48), "d".repeat(96), 12, 345)).toBe(long);
    expect(await vectorId("b".repeat(48), "d".repeat(96), 12, 345)).not.toBe(long);
  });

  it("writes vectors into the tenant's namespace with small metadata, and keeps text in the index", async () => {
    const { fake, service, nearest } = setup();
    const tenant = makeTenant();
    const longId = `policy-${"x".repeat(80)}`;
    for (const id of ["refunds", longId]) {
      const { doc, chunks } = await makeDocument(id, [
        "Refunds are issued within fourteen days.",
        "Exchanges are free of charge.",
      ]);
      unwrap(await service.upsertDocument(tenant, doc, chunks));
    }
    const stored = fake.inNamespace(tenant.tenantId);
    expect(stored).toHaveLength(4);
    for (const vector of stored) {
      expect(new TextEncoder().encode(vector.id).byteLength).toBeLessThanOrEqual(64);
      expect(Object.keys(vector.metadata).sort()).toEqual(["chunkId", "docId", "version"]);
    }
    expect(stored.map((v) => v.id)).toContain(`${tenant.tenantId}:refunds#1#0`);
    await runInDurableObject(env.TENANT_INDEX.getByName(tenant.tenantId), async (_instance, state) => {
      const rows = state.storage.sql.exec("SELECT embedding FROM chunks WHERE embedding IS NOT NULL").toArray();
      expect(rows).toHaveLength(0);
    });
    const hits = await nearest(tenant, "refunds issued within fourteen days", { topK: 10 });
    expect(hits[0]).toMatchObject({ text: "Refunds are issued within fourteen days." });
    expect(new Set(hits.map((h) => h.docId))).toEqual(new Set(["refunds", longId]));
  });

  it("keeps topK within Vectorize's limit and queries only the tenant's namespace", async () => {
    const { fake, service, nearest } = setup();
    const tenant = makeTenant({ retrieval: { maxTopK: 20 } });
    const { doc, chunks } = await makeDocument(
      "many",
      Array.from({ length: 30 }, (_, i) => `Item ${i} concerns widgets.`),
    );
    unwrap(await service.upsertDocument(tenant, doc, chunks));
    expect(await nearest(tenant, "widgets", { topK: 20 })).toHaveLength(20);
    const queries = fake.calls.flatMap((c) => (c.op === "query" ? [c.options] : []));
    expect(queries.every((q) => q.topK! <= 20 && q.namespace === tenant.tenantId && q.returnMetadata === "all")).toBe(
      true,
    );
  });

  it("replaces a version: new vectors first, then the old ones deleted; lingering ones never served", async () => {
    const { fake, service, nearest } = setup();
    const tenant = makeTenant();
    const v1 = await makeDocument("memo", [
      "The zebra crossing closes at noon.",
      "Parking is on level two.",
      "Lunch is at one.",
    ]);
    unwrap(await service.upsertDocument(tenant, v1.doc, v1.chunks));
    fake.applyDeletes = false; // Vectorize applies deletes asynchronously: old vectors linger a while.
    fake.calls.length = 0;
    const v2 = await makeDocument("memo", ["The pedestrian bridge closes at noon.", "Parking moved to level three."], {
      version: 2,
    });
    unwrap(await service.upsertDocument(tenant, v2.doc, v2.chunks));

    expect(fake.calls.map((c) => c.op)).toEqual(["upsert", "deleteByIds"]);
    const [upsert, removal] = fake.calls.map((c) => ("ids" in c ? c : { ids: [] }));
    expect(upsert!.ids).toEqual([0, 1].map((n) => `${tenant.tenantId}:memo#2#${n}`));
    expect(removal!.ids).toEqual([0, 1, 2].map((n) => `${tenant.tenantId}:memo#1#${n}`));

    const hits = await nearest(tenant, "zebra crossing closes at noon", { topK: 10 });
    expect(hits.every((h) => h.provenance.version === 2)).toBe(true);
    expect(hits.map((h) => h.chunkId)).toContain("memo:v2:0");

    fake.calls.length = 0;
    unwrap(await service.upsertDocument(tenant, v2.doc, v2.chunks));
    expect(fake.calls).toEqual([]); // unchanged: nothing written anywhere
    const old = await makeDocument("memo", ["Old."], { version: 1 });
    expect(failure(await service.upsertDocument(tenant, old.doc, old.chunks)).code).toBe("conflict");
    expect(fake.calls).toEqual([]);
  });

  it("deletes a document's vectors with it", async () => {
    const { fake, service } = setup();
    const tenant = makeTenant();
    const { doc, chunks } = await makeDocument("gone", ["Soon deleted.", "Also deleted."]);
    unwrap(await service.upsertDocument(tenant, doc, chunks));
    unwrap(await service.deleteDocument(tenant, "gone"));
    expect(fake.inNamespace(tenant.tenantId)).toEqual([]);
  });

  it("keeps two tenants' vectors apart even for the same document id", async () => {
    const { fake, service, nearest } = setup();
    const a = makeTenant();
    const b = makeTenant();
    const docA = await makeDocument("handbook", ["Tenant A keeps its ledgers in the vault."]);
    const docB = await makeDocument("handbook", ["Tenant B keeps its bicycles in the shed."]);
    unwrap(await service.upsertDocument(a, docA.doc, docA.chunks));
    unwrap(await service.upsertDocument(b, docB.doc, docB.chunks));
    expect(fake.inNamespace(a.tenantId)).toHaveLength(1);
    expect(fake.inNamespace(b.tenantId)).toHaveLength(1);
    expect((await nearest(a, "ledgers vault"))[0]!.text).toContain("Tenant A");
    expect((await nearest(b, "ledgers vault")).every((h) => h.text.includes("Tenant B"))).toBe(true);
    unwrap(await service.deleteDocument(b, "handbook"));
    expect(fake.inNamespace(a.tenantId)).toHaveLength(1);
  });

  it("filters in Vectorize by the tenant's matching document ids, and exactly in the index", async () => {
    const { fake, service, nearest } = setup();
    const tenant = makeTenant();
    for (const [id, team] of [
      ["one", "red"],
      ["two", "blue"],
      ["three", "red"],
    ] as const) {
      const { doc, chunks } = await makeDocument(id, [`Widgets of team ${team}, document ${id}.`], {
        metadata: { team },
      });
      unwrap(await service.upsertDocument(tenant, doc, chunks));
    }
    const hits = await nearest(tenant, "widgets of team", { topK: 10, filter: { team: "red" } });
    expect(new Set(hits.map((h) => h.docId))).toEqual(new Set(["one", "three"]));
    const query = fake.calls.findLast((c) => c.op === "query");
    expect(query).toMatchObject({ options: { filter: { docId: { $in: expect.arrayContaining(["one", "three"]) } } } });
    expect(await nearest(tenant, "widgets", { filter: { team: "green" } })).toEqual([]);
    expect(await nearest(tenant, "widgets", { filter: { docId: "two" } })).toMatchObject([{ docId: "two" }]);
  });

  it("survives an outage: upserts fail cleanly, retrieval falls back to BM25", async () => {
    const { fake, service } = setup();
    const tenant = makeTenant();
    const v1 = await makeDocument("faq", ["Opening hours are nine to five."]);
    unwrap(await service.upsertDocument(tenant, v1.doc, v1.chunks));
    fake.down = true;
    const v2 = await makeDocument("faq", ["Opening hours are ten to six."], { version: 2 });
    expect(failure(await service.upsertDocument(tenant, v2.doc, v2.chunks)).code).toBe("upstream_unavailable");
    expect(unwrap(await service.getDocument(tenant, "faq")).version).toBe(1);
    const hits = unwrap(await service.retrieve(tenant, { query: "opening hours" }));
    expect(hits.map((h) => h.text)).toEqual(["Opening hours are nine to five."]);
  });
});
