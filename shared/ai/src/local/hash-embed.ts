/**
 * The local embedding model: hashed lexical features, not a neural model. A text becomes word
 * unigrams (weight 1; stop words 0.25) and character trigrams of each non-stop word padded as
 * `^word$` (weight 0.5, so "reset" and "resetting" overlap). Each feature is FNV-1a-hashed into one
 * of `dimensions` buckets, with a sign from a second, differently seeded hash (signed hashing keeps
 * collisions from piling up), and the vector is L2-normalised. FNV-1a's low bits are poorly mixed
 * (its lowest bit is just the parity of the odd character codes), so both hashes go through
 * murmur3's fmix32 finaliser first. Texts sharing words or word pieces have high cosine
 * similarity, unrelated texts near zero. The empty text maps to a fixed feature: every vector has
 * unit length.
 */
import { isStopWord, words } from "./lexical";

const FNV_OFFSET = 0x811c9dc5;
const SIGN_SEED = 0x9747b28c;
const FNV_PRIME = 0x01000193;
const WORD_WEIGHT = 1;
const STOP_WORD_WEIGHT = 0.25;
const TRIGRAM_WEIGHT = 0.5;

export function hashEmbed(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number) => {
    const bucket = fnv1a(feature, FNV_OFFSET) % dimensions;
    const sign = (fnv1a(feature, SIGN_SEED) & 1) === 0 ? 1 : -1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
  };
  const tokens = words(text);
  if (tokens.length === 0) add("<empty>", 1);
  for (const word of tokens) {
    if (isStopWord(word)) {
      add(`w:${word}`, STOP_WORD_WEIGHT);
      continue;
    }
    add(`w:${word}`, WORD_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  // Every feature could cancel out in a tiny space; fall back to a fixed unit vector then.
  if (norm === 0) return vector.map((_, i) => (i === 0 ? 1 : 0));
  return vector.map((value) => value / norm);
}

/** 32-bit FNV-1a over UTF-16 code units (seeded offset basis), then murmur3's fmix32 avalanche. */
function fnv1a(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
