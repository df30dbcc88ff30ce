import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { DocumentRecord } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { makeDocument } from "./documents";
import { failure, makeTenant, unwrap } from "./tenant";
import { lexical } from "./rankings";

const rag = exports.default;

describe("documents", () => {
  it("indexes a document and returns its record", async () => {
    const tenant = makeTenant();
    const { doc, chunks } = await makeDocument("handbook", ["First paragraph.", "Second paragraph."], {
      metadata: { team: "hr", year: 2024 },
    });
    expect(unwrap(await rag.upsertDocument(tenant, doc, chunks))).toEqual({ indexVersion: 1, unchanged: false });
    const record = unwrap(await rag.getDocument(tenant, "handbook"));
    expect(record).toEqual({
      ...doc,
      chunkCount: 2,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    } satisfies DocumentRecord);
  });

  it("is a no-op for the same content hash and version, and bumps the index version otherwise", async () => {
    const tenant = makeTenant();
    const v1 = await makeDocument("policy", ["Refunds take 14 days."]);
    unwrap(await rag.upsertDocument(tenant, v1.doc, v1.chunks));
    expect(unwrap(await rag.upsertDocument(tenant, v1.doc, v1.chunks))).toEqual({ indexVersion: 1, unchanged: true });

    const v2 = await makeDocument("policy", ["Refunds take 30 days.", "Exchanges are free."], { version: 2 });
    expect(unwrap(await rag.upsertDocument(tenant, v2.doc, v2.chunks))).toEqual({ indexVersion: 2, unchanged: false });
    const record = unwrap(await rag.getDocument(tenant, "policy"));
    expect(record).toMatchObject({ version: 2, chunkCount: 2, contentHash: v2.doc.contentHash });
    expect(Date.parse(record.updatedAt)).toBeGreaterThanOrEqual(Date.parse(record.createdAt));
  });

  it("refuses a version older than the stored one", async () => {
    const tenant = makeTenant();
    const v3 = await makeDocument("notes", ["Version three."], { version: 3 });
    unwrap(await rag.upsertDocument(tenant, v3.doc, v3.chunks));
    const v2 = await makeDocument("notes", ["Version two."], { version: 2 });
    expect(failure(await rag.upsertDocument(tenant, v2.doc, v2.chunks)).code).toBe("conflict");
    expect(unwrap(await rag.getDocument(tenant, "notes")).version).toBe(3);
  });

  it("rejects malformed documents before writing anything", async () => {
    const tenant = makeTenant();
    const good = await makeDocument("good", ["Some text."]);
    const cases = [
      { ...good, doc: { ...good.doc, id: "bad id!" } },
      { ...good, chunks: [{ ...good.chunks[0]!, vector: [1, 2, 3] }] },
      { ...good, chunks: [{ ...good.chunks[0]!, provenance: { ...good.chunks[0]!.provenance, docId: "other" } }] },
      { ...good, chunks: [good.chunks[0]!, good.chunks[0]!] },
    ];
    for (const bad of cases) {
      expect(failure(await rag.upsertDocument(tenant, bad.doc, bad.chunks)).code).toBe("bad_request");
    }
    expect(unwrap(await rag.listDocuments(tenant, { limit: 10 })).items).toEqual([]);
  });

  it("lists documents newest first with an opaque cursor", async () => {
    const tenant = makeTenant();
    for (const id of ["a", "b", "c", "d", "e"]) {
      const { doc, chunks } = await makeDocument(id, [`Document ${id}.`]);
      unwrap(await rag.upsertDocument(tenant, doc, chunks));
    }
    const first = unwrap(await rag.listDocuments(tenant, { limit: 2 }));
    expect(first.items.map((d) => d.id)).toEqual(["e", "d"]);
    const second = unwrap(await rag.listDocuments(tenant, { limit: 2, cursor: first.nextCursor! }));
    expect(second.items.map((d) => d.id)).toEqual(["c", "b"]);
    const third = unwrap(await rag.listDocuments(tenant, { limit: 2, cursor: second.nextCursor! }));
    expect(third).toEqual({ items: [expect.objectContaining({ id: "a" })], nextCursor: null });
    expect(failure(await rag.listDocuments(tenant, { limit: 2, cursor: "not-a-cursor" })).code).toBe("bad_request");
  });

  it("deletes a document; afterwards it is not found", async () => {
    const tenant = makeTenant();
    const { doc, chunks } = await makeDocument("gone", ["Soon deleted."]);
    unwrap(await rag.upsertDocument(tenant, doc, chunks));
    expect(unwrap(await rag.deleteDocument(tenant, "gone"))).toEqual({ id: "gone", deleted: true, indexVersion: 2 });
    expect(failure(await rag.getDocument(tenant, "gone")).code).toBe("not_found");
    expect(failure(await rag.deleteDocument(tenant, "gone")).code).toBe("not_found");
    expect(failure(await rag.deleteDocument(tenant, "no such id!")).code).toBe("not_found");
  });
});

describe("TenantIndex storage", () => {
  it("runs FTS5 with bm25() in workerd's SQLite, and hostile queries are only words", async () => {
    const tenant = makeTenant();
    const { doc, chunks } = await makeDocument("fts", [
      "The quick brown fox jumps over the lazy dog.",
      "Foxes are near the river bank.",
    ]);
    unwrap(await rag.upsertDocument(tenant, doc, chunks));
    const index = env.TENANT_INDEX.getByName(tenant.tenantId);
    for (const hostile of ['"foo" OR bar* NEAR(', "NEAR(fox dog, 1)", 'fox" OR "', "^fox", "text:fox", "NOT", "*"]) {
      await expect(lexical(index, hostile, 5)).resolves.toBeInstanceOf(Array);
    }
    const near = await lexical(index, "NEAR( river", 5);
    expect(near.map((hit) => hit.chunkId)).toEqual(["fts:v1:1"]);
    // Porter stemming: "jumping" matches "jumps".
    expect((await lexical(index, "jumping", 5)).map((hit) => hit.chunkId)).toEqual(["fts:v1:0"]);
    await runInDurableObject(index, async (_instance, state) => {
      const sql = state.storage.sql;
      // (sqlite_version() is not authorised in Durable Objects; FTS5 and bm25() are.)
      const rows = sql
        .exec<{ rank: number }>(`SELECT bm25(chunks_fts) AS rank FROM chunks_fts WHERE chunks_fts MATCH '"fox"'`)
        .toArray();
      expect(rows).toHaveLength(2); // "fox" and, stemmed, "Foxes"
      expect(rows[0]!.rank).toBeLessThan(0);
    });
  });

  it("stores embeddings as Float32 BLOBs for the durable-object backend", async () => {
    const tenant = makeTenant();
    const { doc, chunks } = await makeDocument("blob", ["Embedded text."]);
    unwrap(await rag.upsertDocument(tenant, doc, chunks));
    await runInDurableObject(env.TENANT_INDEX.getByName(tenant.tenantId), async (_instance, state) => {
      const row = state.storage.sql.exec<{ embedding: ArrayBuffer }>("SELECT embedding FROM chunks").one();
      expect(row.embedding.byteLength).toBe(384 * 4);
      expect(new Float32Array(row.embedding)[7]).toBeCloseTo(chunks[0]!.vector[7]!, 6);
    });
  });
});
