import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeDocument } from "./documents";
import { failure, makeTenant, unwrap } from "./tenant";

const rag = exports.default;
const SECRET = "Project Nightingale launches on the ninth of March with a budget of four million.";

describe("tenant isolation", () => {
  it("never shows tenant A's documents to tenant B, whatever B asks", async () => {
    const a = makeTenant();
    const b = makeTenant();
    const { doc, chunks } = await makeDocument("plans", [SECRET]);
    unwrap(await rag.upsertDocument(a, doc, chunks));
    const query = "When does Project Nightingale launch?";
    expect(unwrap(await rag.retrieve(a, { query }))[0]!.docId).toBe("plans");
    // A's answer is now cached under A's key; B must not get it.
    expect(unwrap(await rag.search(a, { query })).found).toBe(true);

    expect(unwrap(await rag.retrieve(b, { query }))).toEqual([]);
    expect(unwrap(await rag.retrieve(b, { query, filter: { docId: "plans" } }))).toEqual([]);
    const answer = unwrap(await rag.search(b, { query, filter: { docId: "plans" } }));
    expect(answer).toMatchObject({ found: false, sources: [], cached: false });
    expect(unwrap(await rag.search(b, { query }))).toMatchObject({ found: false, cached: false });
    expect(failure(await rag.getDocument(b, "plans")).code).toBe("not_found");
    expect(failure(await rag.deleteDocument(b, "plans")).code).toBe("not_found");
    expect(unwrap(await rag.listDocuments(b, { limit: 10 })).items).toEqual([]);

    // B indexing its own "plans" touches nothing of A's.
    const own = await makeDocument("plans", ["Tenant B plans a picnic."], { version: 5 });
    unwrap(await rag.upsertDocument(b, own.doc, own.chunks));
    expect(unwrap(await rag.getDocument(a, "plans")).version).toBe(1);
    expect(unwrap(await rag.retrieve(a, { query }))[0]!.text).toBe(SECRET);
    expect(unwrap(await rag.retrieve(b, { query: "picnic" }))[0]!.text).toBe("Tenant B plans a picnic.");
    expect(unwrap(await rag.retrieve(b, { query }))).toEqual([]);
  });
});
