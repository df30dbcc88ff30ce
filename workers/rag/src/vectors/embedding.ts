/**
 * Embeddings as stored by the durable-object backend: Float32 BLOBs (4 bytes per dimension, a
 * quarter of JSON's size), compared by cosine similarity.
 */

/** The bytes of a vector as little-endian Float32 (the platform's order on every Workers host). */
export function embeddingBlob(vector: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(vector).buffer);
}

/** The vector in a stored BLOB. */
export function embeddingOf(blob: ArrayBuffer): Float32Array {
  return new Float32Array(blob);
}

/** A query vector prepared once for many comparisons: the values and their L2 norm. */
export interface PreparedQuery {
  values: Float32Array;
  norm: number;
}

export function prepareQuery(vector: readonly number[]): PreparedQuery {
  const values = Float32Array.from(vector);
  let sum = 0;
  for (const value of values) sum += value * value;
  return { values, norm: Math.sqrt(sum) };
}

/** Cosine similarity in [-1, 1]; 0 when either vector is zero or their dimensions differ. */
export function cosine(query: PreparedQuery, stored: Float32Array): number {
  if (stored.length !== query.values.length || query.norm === 0) return 0;
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < stored.length; i++) {
    const value = stored[i]!;
    dot += value * query.values[i]!;
    norm += value * value;
  }
  return norm === 0 ? 0 : dot / (Math.sqrt(norm) * query.norm);
}

/** Keeps the k best-scoring items seen so far, best first (k is small: ≤ 50). */
export class TopK<T> {
  readonly #k: number;
  readonly #items: { item: T; score: number }[] = [];

  constructor(k: number) {
    this.#k = k;
  }

  offer(item: T, score: number): void {
    const items = this.#items;
    if (items.length === this.#k && score <= items[items.length - 1]!.score) return;
    let at = items.length;
    while (at > 0 && items[at - 1]!.score < score) at--;
    items.splice(at, 0, { item, score });
    if (items.length > this.#k) items.pop();
  }

  best(): { item: T; score: number }[] {
    return [...this.#items];
  }
}
