import type { RetrievedChunk } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { RRF_K, reciprocalRankFusion } from "../src/fusion";

function chunk(id: string, score = 0): RetrievedChunk {
  return {
    chunkId: id,
    docId: `doc-${id}`,
    title: id,
    url: null,
    text: `text ${id}`,
    provenance: { docId: `doc-${id}`, version: 1, start: 0, end: 1, headingPath: [], page: null },
    score,
  };
}

describe("reciprocal rank fusion", () => {
  it("scores each chunk Σ 1/(k + rank) over the rankings it appears in", () => {
    const fused = reciprocalRankFusion([
      [chunk("a", 9), chunk("b", 5)],
      [chunk("b", 0.9), chunk("c", 0.5)],
    ]);
    expect(fused.map((c) => c.chunkId)).toEqual(["b", "a", "c"]);
    expect(fused[0]!.score).toBeCloseTo(1 / (RRF_K + 2) + 1 / (RRF_K + 1));
    expect(fused[1]!.score).toBeCloseTo(1 / (RRF_K + 1));
    expect(fused[2]!.score).toBeCloseTo(1 / (RRF_K + 2));
  });

  it("ranks a chunk both rankings found above one ranking's top hit", () => {
    const lexical = [chunk("x"), chunk("y"), chunk("shared")];
    const vector = [chunk("z"), chunk("w"), chunk("shared")];
    expect(reciprocalRankFusion([lexical, vector])[0]!.chunkId).toBe("shared");
  });

  it("is deterministic on ties (better best rank, then earlier ranking) and handles empty input", () => {
    const fused = reciprocalRankFusion([[chunk("a")], [chunk("b")]]);
    expect(fused.map((c) => c.chunkId)).toEqual(["a", "b"]);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });

  it("keys chunks by document and chunk id, so equal chunk ids of two documents stay apart", () => {
    const first = { ...chunk("same"), docId: "one" };
    const second = { ...chunk("same"), docId: "two" };
    expect(reciprocalRankFusion([[first], [second]])).toHaveLength(2);
  });
});
