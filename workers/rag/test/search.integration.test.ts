import { exports } from "cloudflare:workers";
import type { SearchAnswer, SearchSource } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { NOT_FOUND_ANSWER } from "../src/answer";
import { makeDocument } from "./documents";
import { indexLibrary } from "./library";
import { dataOf, readSse, type DoneEvent } from "./sse";
import { ECHO, failure, makeTenant, unwrap } from "./tenant";

const rag = exports.default;
const QUESTION = "How long do refunds take to reach my bank?";

function citationsIn(answer: string): number[] {
  return [...answer.matchAll(/\[(\d+(?:,\s*\d+)*)\]/g)].flatMap((m) => m[1]!.split(",").map((n) => Number(n.trim())));
}

/** Every [n] names a source, sources are numbered 1..n in order of first citation, and all are retrieved chunks. */
function expectCheckedCitations(answer: SearchAnswer, retrievedChunkIds: string[]) {
  const cited = citationsIn(answer.answer);
  expect(cited.length).toBeGreaterThan(0);
  expect(answer.sources.map((s) => s.n)).toEqual(answer.sources.map((_, i) => i + 1));
  for (const n of cited) expect(n).toBeLessThanOrEqual(answer.sources.length);
  expect([...new Set(cited)]).toEqual(answer.sources.map((s) => s.n));
  for (const source of answer.sources) expect(retrievedChunkIds).toContain(source.chunkId);
}

/** The answer without its spans (`timings` differ call to call), after checking they are durations. */
function answerOf(answer: SearchAnswer): Omit<SearchAnswer, "timings"> {
  const { timings, ...rest } = answer;
  for (const ms of Object.values(timings ?? {})) expect(ms).toBeGreaterThanOrEqual(0);
  return rest;
}

describe("search", () => {
  it("answers from retrieved chunks and cites only them", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    const retrieved = unwrap(await rag.retrieve(tenant, { query: QUESTION })).map((c) => c.chunkId);
    const answer = unwrap(await rag.search(tenant, { query: QUESTION }));
    expect(answer).toMatchObject({ found: true, cached: false, model: ECHO });
    expectCheckedCitations(answer, retrieved);
    expect(answer.answer).toContain("five business days");
    const source = answer.sources.find((s) => s.chunkId === "refunds:v1:1")!;
    expect(source).toEqual({
      n: expect.any(Number),
      docId: "refunds",
      chunkId: "refunds:v1:1",
      title: "The refunds guide",
      url: "https://docs.example/refunds",
      snippet: expect.stringContaining("Refunds are paid back"),
      score: expect.any(Number),
    } satisfies SearchSource);
  });

  it("keeps snippets to about 200 characters", async () => {
    const tenant = makeTenant();
    const long = `Warranty terms: ${"the warranty covers manufacturing defects for two years ".repeat(10)}`;
    const { doc, chunks } = await makeDocument("warranty", [long]);
    unwrap(await rag.upsertDocument(tenant, doc, chunks));
    const answer = unwrap(await rag.search(tenant, { query: "What does the warranty cover?" }));
    const snippet = answer.sources[0]!.snippet;
    expect(snippet.length).toBeLessThanOrEqual(200);
    expect(snippet.endsWith("…")).toBe(true);
  });

  it("says it found nothing, without calling a model, when nothing is relevant", async () => {
    const tenant = makeTenant({ chat: { default: "local/fail-always", allowed: ["local/fail-always"] } });
    await indexLibrary(tenant);
    const answer = unwrap(await rag.search(tenant, { query: "Who painted the ceiling of the Sistine Chapel?" }));
    // A model call would have failed (the tenant's only model always fails): none was made.
    expect(answerOf(answer)).toEqual({
      answer: NOT_FOUND_ANSWER,
      sources: [],
      found: false,
      cached: false,
      model: "none",
    });
    expect(Object.keys(answer.timings ?? {})).toEqual(expect.arrayContaining(["cache", "retrieve"]));
    const empty = makeTenant();
    expect(unwrap(await rag.search(empty, { query: QUESTION })).found).toBe(false);
  });

  it("reports a model outage as ai_unavailable", async () => {
    const tenant = makeTenant({ chat: { default: "local/fail-always", allowed: ["local/fail-always"] } });
    await indexLibrary(tenant);
    expect(failure(await rag.search(tenant, { query: QUESTION })).code).toBe("ai_unavailable");
  });

  it("serves a repeated search from the cache until the index changes", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant, ["refunds", "shipping"]);
    const first = unwrap(await rag.search(tenant, { query: QUESTION }));
    expect(first.cached).toBe(false);
    const second = unwrap(await rag.search(tenant, { query: `  how LONG do refunds   take to reach my bank?` }));
    expect(answerOf(second)).toEqual({ ...answerOf(first), cached: true });
    expect(unwrap(await rag.search(tenant, { query: QUESTION, topK: 3 })).cached).toBe(false);
    expect(unwrap(await rag.search(tenant, { query: QUESTION, filter: { team: "billing" } })).cached).toBe(false);

    await indexLibrary(tenant, ["security"]);
    expect(unwrap(await rag.search(tenant, { query: QUESTION })).cached).toBe(false);
    expect(unwrap(await rag.search(tenant, { query: QUESTION })).cached).toBe(true);
  });
});

describe("searchStream", () => {
  it("streams sources first, then tokens, then done with the checked sources", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    const retrieved = unwrap(await rag.retrieve(tenant, { query: QUESTION }));
    const started = unwrap(await rag.searchStream(tenant, { query: QUESTION }));
    const frames = await readSse(started.body);

    expect(frames.map((f) => Number(f.id))).toEqual(frames.map((_, i) => i + 1));
    expect(frames[0]!.event).toBe("sources");
    expect(frames.at(-1)!.event).toBe("done");
    expect(frames.slice(1, -1).every((f) => f.event === "token")).toBe(true);
    expect(frames.length).toBeGreaterThan(4);

    const candidates = dataOf<{ sources: SearchSource[] }>(frames, "sources")[0]!.sources;
    expect(candidates.map((s) => s.chunkId)).toEqual(retrieved.map((c) => c.chunkId));
    const tokens = dataOf<{ token: string; cites?: { n: number; chunkId: string }[] }>(frames, "token");
    const text = tokens.map((t) => t.token).join("");
    const [done] = dataOf<DoneEvent>(frames, "done");
    expect(done).toMatchObject({ found: true, cached: false, model: ECHO });
    expectCheckedCitations(
      { answer: text, sources: done!.sources, found: true, cached: false, model: ECHO },
      retrieved.map((c) => c.chunkId),
    );
    // Each citation number is announced with its chunk in the token that introduces it.
    const cites = tokens.flatMap((t) => t.cites ?? []);
    expect(cites).toEqual(done!.sources.map((s) => ({ n: s.n, docId: s.docId, chunkId: s.chunkId })));

    // The streamed answer was cached: search returns the same text and sources.
    const cached = unwrap(await rag.search(tenant, { query: QUESTION }));
    expect(answerOf(cached)).toEqual({ answer: text, sources: done!.sources, found: true, cached: true, model: ECHO });
    const again = await readSse(unwrap(await rag.searchStream(tenant, { query: QUESTION })).body);
    expect(dataOf<DoneEvent>(again, "done")[0]).toMatchObject({ cached: true, sources: done!.sources });
    expect(
      dataOf<{ token: string }>(again, "token")
        .map((t) => t.token)
        .join(""),
    ).toBe(text);
  });

  it("streams the not-found answer without a model", async () => {
    const tenant = makeTenant();
    await indexLibrary(tenant);
    const frames = await readSse(unwrap(await rag.searchStream(tenant, { query: "volcanic eruptions on Io" })).body);
    expect(frames.map((f) => f.event)).toEqual(["sources", ...Array(frames.length - 2).fill("token"), "done"]);
    expect(dataOf<{ sources: SearchSource[] }>(frames, "sources")[0]!.sources).toEqual([]);
    expect(
      dataOf<{ token: string }>(frames, "token")
        .map((t) => t.token)
        .join(""),
    ).toBe(NOT_FOUND_ANSWER);
    expect(dataOf<DoneEvent>(frames, "done")[0]).toEqual({ found: false, cached: false, model: "none", sources: [] });
  });

  it("ends with an error event when the model fails after the sources were sent", async () => {
    const tenant = makeTenant({ chat: { default: "local/fail-always", allowed: ["local/fail-always"] } });
    await indexLibrary(tenant);
    const frames = await readSse(unwrap(await rag.searchStream(tenant, { query: QUESTION })).body);
    expect(frames.map((f) => f.event)).toEqual(["sources", "error"]);
    expect(dataOf<{ code: string }>(frames, "error")[0]!.code).toBe("ai_unavailable");
    // A failed answer is not cached.
    expect(failure(await rag.search(tenant, { query: QUESTION })).code).toBe("ai_unavailable");
  });
});
