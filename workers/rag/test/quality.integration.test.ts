/**
 * Retrieval quality on a small public-domain corpus (test/corpus, see its README): recall@5 of
 * BM25 only, vector only (local hashed embeddings) and hybrid (RRF), through the same code path
 * as the `retrieve` RPC with its internal `mode` option, on a tenant of its own. Recall@1 and MRR
 * are reported too: with 32 passages, top-5 recall is generous and ranking differences show there.
 */
import { env, exports } from "cloudflare:workers";
import { createLocalProvider } from "@crispy/ai";
import { beforeAll, describe, expect, it } from "vitest";
import { aiFromEnv } from "../src/ai";
import { retrieveChunks, similarityFloor, type RetrievalMode } from "../src/retrieve";
import { vectorBackendFor } from "../src/vectors/backend";
import passages from "./corpus/passages.json";
import questions from "./corpus/questions.json";
import { makeDocument } from "./documents";
import { EMBEDDINGS, makeTenant, unwrap } from "./tenant";
import { lexical, nearest } from "./rankings";

const K = 5;
const tenant = makeTenant({ retrieval: { defaultTopK: K, maxTopK: 20 } });
const deps = { env, ai: aiFromEnv(env), backend: vectorBackendFor(env), reranker: null };

/** Questions no passage answers and that share no content word with any passage. */
const OFF_TOPIC = [
  "Who painted the ceiling of the Sistine Chapel?",
  "How do I bake sourdough bread at home?",
  "Which planet has the most moons?",
  "What colour is a ripe banana?",
  "How fast can a cheetah run?",
];

interface Measured {
  recall: number;
  recallAt1: number;
  mrr: number;
  misses: string[];
}

async function measure(mode: RetrievalMode): Promise<Measured> {
  const misses: string[] = [];
  let first = 0;
  let reciprocal = 0;
  for (const { question, passage } of questions) {
    const chunks = unwrap(await retrieveChunks(deps, tenant, { query: question, topK: K, filter: undefined }, mode));
    const rank = chunks.findIndex((chunk) => chunk.chunkId === passage) + 1;
    if (rank === 0) misses.push(passage);
    if (rank === 1) first++;
    if (rank > 0) reciprocal += 1 / rank;
  }
  const n = questions.length;
  return { recall: (n - misses.length) / n, recallAt1: first / n, mrr: reciprocal / n, misses };
}

beforeAll(async () => {
  const byDoc = new Map<string, typeof passages>();
  for (const passage of passages) byDoc.set(passage.doc, [...(byDoc.get(passage.doc) ?? []), passage]);
  for (const [docId, docPassages] of byDoc) {
    const { doc, chunks } = await makeDocument(
      docId,
      docPassages.map((p) => p.text),
      { title: docId, chunkIds: docPassages.map((p) => p.id), url: null },
    );
    unwrap(await exports.default.upsertDocument(tenant, doc, chunks));
  }
});

describe("retrieval quality", () => {
  it("hybrid recall@5 is at least that of BM25 or vectors alone", async () => {
    const results = {
      BM25: await measure("lexical"),
      vector: await measure("vector"),
      "hybrid RRF": await measure("hybrid"),
    };
    const cell = (value: number) => value.toFixed(2).padStart(8);
    console.log(
      [
        `${questions.length} questions over ${passages.length} passages, ${EMBEDDINGS.model}, top ${K}`,
        "| mode       | recall@5 | recall@1 |    MRR   | missed at 5",
        "|------------|----------|----------|----------|------------",
        ...Object.entries(results).map(
          ([name, r]) =>
            `| ${name.padEnd(10)} | ${cell(r.recall)} | ${cell(r.recallAt1)} | ${cell(r.mrr)} | ${r.misses.join(", ") || "-"}`,
        ),
      ].join("\n"),
    );
    const { BM25: lexical, vector, "hybrid RRF": hybrid } = results;
    expect(hybrid.recall).toBeGreaterThanOrEqual(Math.max(lexical.recall, vector.recall));
    expect(hybrid.recall).toBeGreaterThanOrEqual(0.9);
  });

  it("the similarity floor keeps off-topic questions out", async () => {
    const embedder = createLocalProvider();
    const index = env.TENANT_INDEX.getByName(tenant.tenantId);
    const meta = { tenantId: tenant.tenantId, requestId: "quality", gatewayId: "test" };
    const similarities = async (query: string) => {
      const { vectors } = await embedder.embed({ ...EMBEDDINGS, texts: [query] }, meta);
      return nearest(index, vectors[0]!, passages.length);
    };
    const supporting: number[] = [];
    for (const { question, passage } of questions) {
      supporting.push((await similarities(question)).find((hit) => hit.chunkId === passage)!.score);
    }
    const offTopic: number[] = [];
    for (const question of OFF_TOPIC) {
      expect(await lexical(index, question, K)).toEqual([]);
      offTopic.push((await similarities(question))[0]!.score);
    }
    const floor = similarityFloor(EMBEDDINGS.model);
    supporting.sort((a, b) => a - b);
    console.log(
      `cosine, question → its passage: min ${supporting[0]!.toFixed(3)}, median ${supporting[supporting.length >> 1]!.toFixed(3)}; ` +
        `best cosine of off-topic questions: max ${Math.max(...offTopic).toFixed(3)}; floor ${floor}`,
    );
    expect(Math.max(...offTopic)).toBeLessThan(floor);
    for (const question of OFF_TOPIC) {
      expect(unwrap(await exports.default.retrieve(tenant, { query: question }))).toEqual([]);
      expect(unwrap(await exports.default.search(tenant, { query: question })).found).toBe(false);
    }
  });
});
