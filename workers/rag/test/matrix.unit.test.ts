import { describe, expect, it } from "vitest";
import { cosine, prepareQuery } from "../src/vectors/embedding";
import { VectorMatrix, type MatrixRow } from "../src/vectors/matrix";

/** Deterministic pseudo-random vectors (no Math.random: failures must be reproducible). */
function vectors(count: number, dims: number, seed = 7): number[][] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return Array.from({ length: count }, () => Array.from({ length: dims }, next));
}

function rowsOf(list: number[][], docOf: (i: number) => string, firstSeq = 1): MatrixRow[] {
  return list.map((v, i) => ({ seq: firstSeq + i, docId: docOf(i), embedding: new Float32Array(v).buffer }));
}

/** The exact answer: cosine against every row, best first. */
function bruteForce(rows: MatrixRow[], query: number[], k: number, allowed?: Set<string>) {
  const q = prepareQuery(query);
  return rows
    .filter((row) => !allowed || allowed.has(row.docId))
    .map((row) => ({ seq: row.seq, score: cosine(q, new Float32Array(row.embedding as ArrayBuffer)) }))
    .sort((a, b) => b.score - a.score || a.seq - b.seq)
    .slice(0, k);
}

const docOf = (i: number) => `doc-${i % 10}`;

describe("VectorMatrix", () => {
  const data = vectors(500, 32);
  const rows = rowsOf(data, docOf);
  const [query] = vectors(1, 32, 99);

  it("finds the same nearest rows, with the same scores, as cosine over every row", () => {
    const matrix = VectorMatrix.build(32, 1, rows, rows.length)!;
    const got = matrix.nearest(query!, 10, null);
    const want = bruteForce(rows, query!, 10);
    expect(got.map((h) => h.seq)).toEqual(want.map((h) => h.seq));
    for (const [i, hit] of got.entries()) expect(hit.score).toBeCloseTo(want[i]!.score, 5);
  });

  it("restricts to the allowed documents", () => {
    const matrix = VectorMatrix.build(32, 1, rows, rows.length)!;
    const allowed = new Set(["doc-3", "doc-8"]);
    const got = matrix.nearest(query!, 5, allowed);
    expect(got.map((h) => h.seq)).toEqual(bruteForce(rows, query!, 5, allowed).map((h) => h.seq));
    expect(matrix.nearest(query!, 5, new Set())).toEqual([]);
  });

  it("follows a document being replaced and removed", () => {
    const matrix = VectorMatrix.build(32, 1, rows, rows.length)!;
    matrix.removeDocument("doc-3");
    const replacement = rowsOf(vectors(7, 32, 3), () => "doc-3", 1000);
    expect(matrix.append(replacement)).toBe(true);
    const current = [...rows.filter((r) => r.docId !== "doc-3"), ...replacement];
    expect(matrix.size).toBe(current.length);
    for (const k of [1, 10, 50]) {
      expect(matrix.nearest(query!, k, null).map((h) => h.seq)).toEqual(
        bruteForce(current, query!, k).map((h) => h.seq),
      );
    }
    matrix.removeDocument("doc-3");
    expect(matrix.nearest(query!, 600, null).some((h) => h.seq >= 1000 || rows[h.seq - 1]!.docId === "doc-3")).toBe(
      false,
    );
  });

  it("scores rows of another dimension, and zero rows, as 0", () => {
    const odd: MatrixRow[] = [
      { seq: 1, docId: "a", embedding: [1, 0, 0] },
      { seq: 2, docId: "a", embedding: [0, 0, 0, 0] },
      { seq: 3, docId: "a", embedding: [0, 1, 0, 0] },
    ];
    const matrix = VectorMatrix.build(4, 1, odd, odd.length)!;
    expect(matrix.nearest([0, 1, 0, 0], 3, null)).toEqual([
      { seq: 3, score: 1 },
      { seq: 1, score: 0 },
      { seq: 2, score: 0 },
    ]);
    expect(matrix.nearest([1, 0, 0], 3, null)).toEqual([]); // a query of the wrong dimension matches nothing
  });

  it("refuses to grow beyond its byte bound", () => {
    const bound = 100 * 32 * 4;
    expect(VectorMatrix.build(32, 1, rows, rows.length, bound)).toBeNull();
    const matrix = VectorMatrix.build(32, 1, rows.slice(0, 90), 90, bound)!;
    expect(matrix.append(rows.slice(90, 100))).toBe(true);
    expect(matrix.append(rows.slice(100, 101))).toBe(false);
  });
});
