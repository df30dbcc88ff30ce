/**
 * The TenantIndex's vector ranking against exact cosine over the current chunks, through
 * document replacement and deletion. Runs twice (vitest.config.ts): with the in-memory matrix
 * (default) and with VECTOR_MATRIX_MAX_BYTES=0, where every query scans SQLite.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cosine, prepareQuery } from "../src/vectors/embedding";
import { makeDocument, type TestDocument } from "./documents";
import { makeTenant, unwrap } from "./tenant";
import { nearest } from "./rankings";

const rag = exports.default;

function exact(docs: TestDocument[], query: number[], k: number): string[] {
  const q = prepareQuery(query);
  return docs
    .flatMap((d) => d.chunks.map((c) => ({ id: c.chunkId, score: cosine(q, Float32Array.from(c.vector)) })))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((hit) => hit.id);
}

const PARAGRAPHS = [
  [
    "Tides rise twice a day along the harbour wall.",
    "The lighthouse keeper logs every ship.",
    "Gulls nest on the north cliffs.",
  ],
  [
    "The orchard grows apples, pears and plums.",
    "Harvest starts in late September.",
    "Cider is pressed in the old barn.",
  ],
  [
    "Trains to the capital leave every hour.",
    "The night train has sleeping cars.",
    "Tickets are cheaper when bought early.",
  ],
];

describe(`vector ranking (matrix bound ${env.VECTOR_MATRIX_MAX_BYTES} bytes)`, () => {
  it("ranks exactly as cosine over the current chunks, through replace and delete", async () => {
    const tenant = makeTenant();
    const index = env.TENANT_INDEX.getByName(tenant.tenantId);
    const docs = await Promise.all(PARAGRAPHS.map((p, i) => makeDocument(`doc-${i}`, p)));
    for (const d of docs) unwrap(await rag.upsertDocument(tenant, d.doc, d.chunks));
    const probe = (await makeDocument("probe", ["when does the harvest start and the ships come in"])).chunks[0]!
      .vector;

    const ranked = async (k: number) => (await nearest(index, probe, k)).map((c) => c.chunkId);
    expect(await ranked(9)).toEqual(exact(docs, probe, 9));

    const replaced = await makeDocument("doc-1", ["Harvest now starts in early October.", "The barn was rebuilt."], {
      version: 2,
    });
    unwrap(await rag.upsertDocument(tenant, replaced.doc, replaced.chunks));
    const afterReplace = [docs[0]!, replaced, docs[2]!];
    expect(await ranked(9)).toEqual(exact(afterReplace, probe, 9));
    expect((await ranked(9)).some((id) => id.startsWith("doc-1:v1:"))).toBe(false);

    unwrap(await rag.deleteDocument(tenant, "doc-0"));
    expect(await ranked(9)).toEqual(exact([replaced, docs[2]!], probe, 9));

    const filtered = await nearest(index, probe, 9, { docId: "doc-2" });
    expect(filtered.map((c) => c.chunkId)).toEqual(exact([docs[2]!], probe, 9));
  });

  it("never ranks one tenant's vectors for another", async () => {
    const a = makeTenant();
    const b = makeTenant();
    const doc = await makeDocument("secret", ["The vault code is kept in the blue folder."]);
    unwrap(await rag.upsertDocument(a, doc.doc, doc.chunks));
    const probe = doc.chunks[0]!.vector;
    expect((await nearest(env.TENANT_INDEX.getByName(a.tenantId), probe, 5)).map((c) => c.chunkId)).toEqual([
      "secret:v1:0",
    ]);
    expect(await nearest(env.TENANT_INDEX.getByName(b.tenantId), probe, 5)).toEqual([]);
  });
});
