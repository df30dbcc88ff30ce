import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { makeDocument } from "./documents";
import { indexLibrary } from "./library";
import { failure, makeTenant, unwrap } from "./tenant";

const rag = exports.default;

describe("retrieve", () => {
  it("finds the chunk that answers a question, with its provenance", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    const chunks = unwrap(
      await rag.retrieve(tenant, { query: "How many days do I have to return an item for a refund?" }),
    );
    expect(chunks[0]).toMatchObject({
      docId: "refunds",
      chunkId: "refunds:v1:0",
      title: "The refunds guide",
      url: "https://docs.example/refunds",
      provenance: { docId: "refunds", version: 1, start: 0, headingPath: ["The refunds guide"], page: null },
    });
    expect(chunks[0]!.text).toContain("within 14 days");
    expect(chunks.length).toBeLessThanOrEqual(tenant.config.retrieval.defaultTopK);
    const scores = chunks.map((c) => c.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it("returns nothing when no document is relevant", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    expect(unwrap(await rag.retrieve(tenant, { query: "xylophone quasar marmalade" }))).toEqual([]);
  });

  it("serves only the new version after a re-upsert, atomically", async () => {
    const tenant = makeTenant();
    const v1 = await makeDocument("memo", [
      "The zebra crossing closes at noon.",
      "Parking is on level two.",
      "Lunch is at one.",
    ]);
    unwrap(await rag.upsertDocument(tenant, v1.doc, v1.chunks));
    expect(unwrap(await rag.retrieve(tenant, { query: "zebra crossing" }))[0]!.chunkId).toBe("memo:v1:0");

    const v2 = await makeDocument("memo", ["The pedestrian bridge closes at noon.", "Parking moved to level three."], {
      version: 2,
    });
    // Readers racing the replacement see one version or the other, never a mix.
    const [, ...during] = await Promise.all([
      rag.upsertDocument(tenant, v2.doc, v2.chunks),
      ...Array.from({ length: 20 }, () => rag.retrieve(tenant, { query: "closes at noon parking level", topK: 10 })),
    ]);
    for (const result of during) {
      const versions = new Set(unwrap(result).map((c) => c.provenance.version));
      expect(versions.size).toBe(1);
    }

    expect(unwrap(await rag.retrieve(tenant, { query: "zebra crossing" }))).toEqual([]);
    const now = unwrap(await rag.retrieve(tenant, { query: "closes at noon parking level", topK: 10 }));
    expect(now.map((c) => c.chunkId).sort()).toEqual(["memo:v2:0", "memo:v2:1"]);
    expect(unwrap(await rag.getDocument(tenant, "memo")).chunkCount).toBe(2);
    await runInDurableObject(env.TENANT_INDEX.getByName(tenant.tenantId), async (_instance, state) => {
      const sql = state.storage.sql;
      expect(sql.exec("SELECT chunk_id FROM chunks").toArray()).toHaveLength(2);
      expect(sql.exec(`SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH '"zebra"'`).toArray()).toHaveLength(0);
    });
  });

  it("forgets a deleted document", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    unwrap(await rag.deleteDocument(tenant, "security"));
    const chunks = unwrap(await rag.retrieve(tenant, { query: "password rules phishing security desk", topK: 10 }));
    expect(chunks.some((c) => c.docId === "security")).toBe(false);
  });

  it("filters by metadata (type-sensitive) and by docId", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    const query = "refunds shipping passwords days";
    const all = unwrap(await rag.retrieve(tenant, { query, topK: 10 }));
    expect(new Set(all.map((c) => c.docId))).toEqual(new Set(["refunds", "shipping", "security"]));

    const year2024 = unwrap(await rag.retrieve(tenant, { query, topK: 10, filter: { year: 2024 } }));
    expect(new Set(year2024.map((c) => c.docId))).toEqual(new Set(["refunds", "security"]));
    const both = unwrap(await rag.retrieve(tenant, { query, topK: 10, filter: { year: 2024, team: "security" } }));
    expect(new Set(both.map((c) => c.docId))).toEqual(new Set(["security"]));
    expect(unwrap(await rag.retrieve(tenant, { query, filter: { year: "2024" } }))).toEqual([]);

    const byId = unwrap(await rag.retrieve(tenant, { query, topK: 10, filter: { docId: "shipping" } }));
    expect(new Set(byId.map((c) => c.docId))).toEqual(new Set(["shipping"]));
    expect(unwrap(await rag.retrieve(tenant, { query, filter: { docId: "shipping", team: "billing" } }))).toEqual([]);
  });

  it("applies the tenant's topK default and bound", async () => {
    const tenant = makeTenant({ retrieval: { defaultTopK: 2, maxTopK: 4 } });
    await indexLibrary(tenant);
    const query = "refunds shipping passwords days";
    expect(unwrap(await rag.retrieve(tenant, { query }))).toHaveLength(2);
    expect(unwrap(await rag.retrieve(tenant, { query, topK: 4 }))).toHaveLength(4);
    const tooMany = failure(await rag.retrieve(tenant, { query, topK: 5 }));
    expect(tooMany.code).toBe("bad_request");
    expect(tooMany.message).toContain("at most 4");
    expect(failure(await rag.retrieve(tenant, { query, topK: 0 })).code).toBe("bad_request");
    expect(failure(await rag.retrieve(tenant, { query: "   " })).code).toBe("bad_request");
    expect(failure(await rag.search(tenant, { query, topK: 5 })).code).toBe("bad_request");
  });
});
