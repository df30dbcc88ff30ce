/**
 * An in-memory copy of a TenantIndex's stored embeddings for brute-force cosine search: one
 * contiguous Float32Array of L2-normalised rows, so a query is a single pass of dot products
 * instead of reading every embedding BLOB out of SQLite (at 10k chunks × 384 dimensions that read
 * alone cost ~50 ms per query; the pass costs a few).
 *
 * Invariants:
 * - The matrix reflects exactly the index version it was built or last updated for (`version`);
 *   the TenantIndex rebuilds it from SQLite whenever that differs from the stored index version,
 *   so a change the matrix missed can never be served.
 * - Rows with a different dimension than the matrix's (an embedding model change) or a zero norm
 *   are kept as zero rows: they score 0, as `cosine` scores them.
 * - It holds at most `maxBytes` (VECTOR_MATRIX_MAX_BYTES, default 48 MiB ≈ 32k chunks at 384
 *   dimensions; the DO isolate has 128 MB); a bigger index is searched by streaming from SQLite.
 */
import { TopK } from "./embedding";

export const DEFAULT_MATRIX_MAX_BYTES = 48 * 1024 * 1024;

export interface MatrixRow {
  seq: number;
  docId: string;
  embedding: ArrayBuffer | readonly number[];
}

function valuesOf(embedding: ArrayBuffer | readonly number[]): ArrayLike<number> {
  return embedding instanceof ArrayBuffer ? new Float32Array(embedding) : embedding;
}

export class VectorMatrix {
  readonly dimensions: number;
  readonly maxBytes: number;
  version: number;
  #data: Float32Array;
  #seqs: number[] = [];
  #docs: string[] = [];

  private constructor(dimensions: number, version: number, capacity: number, maxBytes: number) {
    this.dimensions = dimensions;
    this.maxBytes = maxBytes;
    this.version = version;
    this.#data = new Float32Array(Math.min(Math.max(capacity, 16), Math.floor(maxBytes / 4 / dimensions)) * dimensions);
  }

  /** A matrix of `rows` (about `expected` of them), or null when it would exceed `maxBytes`. */
  static build(
    dimensions: number,
    version: number,
    rows: Iterable<MatrixRow>,
    expected: number,
    maxBytes = DEFAULT_MATRIX_MAX_BYTES,
  ): VectorMatrix | null {
    if (!VectorMatrix.fits(expected, dimensions, maxBytes)) return null;
    const matrix = new VectorMatrix(dimensions, version, Math.max(expected, 1), maxBytes);
    for (const row of rows) if (!matrix.#append(row)) return null;
    return matrix;
  }

  static fits(rows: number, dimensions: number, maxBytes: number): boolean {
    return rows * dimensions * 4 <= maxBytes;
  }

  get size(): number {
    return this.#seqs.length;
  }

  /** Adds rows (a new document version); false when the matrix would outgrow its bound. */
  append(rows: readonly MatrixRow[]): boolean {
    for (const row of rows) if (!this.#append(row)) return false;
    return true;
  }

  /** Removes every row of a document, keeping the others in order. */
  removeDocument(docId: string): void {
    const dims = this.dimensions;
    let kept = 0;
    for (let i = 0; i < this.#seqs.length; i++) {
      if (this.#docs[i] === docId) continue;
      if (kept !== i) {
        this.#data.copyWithin(kept * dims, i * dims, (i + 1) * dims);
        this.#seqs[kept] = this.#seqs[i]!;
        this.#docs[kept] = this.#docs[i]!;
      }
      kept++;
    }
    this.#seqs.length = kept;
    this.#docs.length = kept;
  }

  /** The k rows most cosine-similar to `query`, best first; `allowedDocs` restricts by document. */
  nearest(
    query: readonly number[],
    k: number,
    allowedDocs: ReadonlySet<string> | null,
  ): { seq: number; score: number }[] {
    const dims = this.dimensions;
    const best = new TopK<number>(k);
    if (query.length !== dims) return [];
    const q = Float32Array.from(query);
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += q[i]! * q[i]!;
    if (norm === 0) return [];
    norm = Math.sqrt(norm);
    for (let i = 0; i < dims; i++) q[i] = q[i]! / norm;
    const data = this.#data;
    for (let row = 0; row < this.#seqs.length; row++) {
      if (allowedDocs && !allowedDocs.has(this.#docs[row]!)) continue;
      let dot = 0;
      const base = row * dims;
      for (let i = 0; i < dims; i++) dot += data[base + i]! * q[i]!;
      best.offer(this.#seqs[row]!, dot);
    }
    return best.best().map(({ item, score }) => ({ seq: item, score }));
  }

  #append(row: MatrixRow): boolean {
    const dims = this.dimensions;
    const at = this.#seqs.length;
    if ((at + 1) * dims > this.#data.length) {
      if (!VectorMatrix.fits(at + 1, dims, this.maxBytes)) return false;
      const grown = new Float32Array(
        Math.min(Math.max(this.#data.length * 2, dims), Math.floor(this.maxBytes / 4 / dims) * dims),
      );
      grown.set(this.#data);
      this.#data = grown;
    }
    const values = valuesOf(row.embedding);
    const base = at * dims;
    if (values.length === dims) {
      let norm = 0;
      for (let i = 0; i < dims; i++) norm += values[i]! * values[i]!;
      norm = Math.sqrt(norm);
      for (let i = 0; i < dims; i++) this.#data[base + i] = norm === 0 ? 0 : values[i]! / norm;
    } else {
      this.#data.fill(0, base, base + dims);
    }
    this.#seqs.push(row.seq);
    this.#docs.push(row.docId);
    return true;
  }
}
