/**
 * Structure-aware chunking. A chunk never crosses a section (heading or PDF page), so its heading
 * path and page are exact. Within a section, chunks are cut at the strongest break available near
 * the size target: a paragraph break, else a line break, else a sentence end, else a space. The
 * next chunk starts a little before the previous one ended (about 15% of the target), at a
 * sentence start when one is near, else at a word start, so a passage cut in two is still whole in
 * one of the chunks.
 *
 * Invariants (test/chunk.unit.test.ts):
 * - `text.slice(provenance.start, provenance.end) === chunk.text`, with no blank chunk and no
 *   leading or trailing whitespace.
 * - `estimateTokens(chunk.text) <= targetTokens`; a chunk is cut inside a word only when that one
 *   word is longer than the whole target (a URL or base64 blob), and never inside a surrogate pair.
 * - Pure and deterministic: the same document gives the same chunks.
 * - A section holding only a heading (a title directly followed by a subheading) is merged into
 *   the section it heads, so no chunk is a bare heading when there is text under it.
 */
import { estimateTokens } from "@crispy/ai";
import type { ChunkProvenance } from "@crispy/contracts";
import type { ParsedDocument, Section } from "./parse";

export const CHUNK_TARGET_TOKENS = 300;
export const CHUNK_OVERLAP_TOKENS = Math.round(CHUNK_TARGET_TOKENS * 0.15);
/** A chunk may end early at a strong break once it holds this share of the target. */
const MIN_FILL = 0.5;
/** Sections smaller than this that only head a nested section are merged into it. */
const MERGE_BELOW_TOKENS = 24;

export interface DocumentChunk {
  chunkId: string;
  /** 0-based position in the document. */
  seq: number;
  text: string;
  tokens: number;
  provenance: ChunkProvenance;
}

export interface ChunkSizes {
  targetTokens: number;
  overlapTokens: number;
}

/** Strength of a break between two words: higher is a better place to cut. */
const Level = { Word: 1, Sentence: 2, Line: 3, Paragraph: 4 } as const;
type Level = (typeof Level)[keyof typeof Level];

interface Gap {
  /** Offset just after the last character before the whitespace (a possible chunk end). */
  end: number;
  /** Offset of the first character after the whitespace (a possible chunk start). */
  next: number;
  level: Level;
}

/** The chunks of a parsed document, with provenance for version `version` of document `docId`. */
export function chunkDocument(
  document: ParsedDocument,
  identity: { docId: string; version: number },
  sizes: ChunkSizes = { targetTokens: CHUNK_TARGET_TOKENS, overlapTokens: CHUNK_OVERLAP_TOKENS },
): DocumentChunk[] {
  const { text } = document;
  const chunks: DocumentChunk[] = [];
  for (const section of mergeBareHeadings(text, document.sections)) {
    for (const [start, end] of splitSection(text, section, sizes)) {
      const seq = chunks.length;
      const chunkText = text.slice(start, end);
      chunks.push({
        chunkId: `${identity.docId}:v${identity.version}:${seq}`,
        seq,
        text: chunkText,
        tokens: estimateTokens(chunkText),
        provenance: {
          docId: identity.docId,
          version: identity.version,
          start,
          end,
          headingPath: [...section.headingPath],
          page: section.page,
        },
      });
    }
  }
  return chunks;
}

function mergeBareHeadings(text: string, sections: readonly Section[]): Section[] {
  const merged: Section[] = [];
  for (let i = 0; i < sections.length; i++) {
    let section = sections[i]!;
    // Fold a run of small heading sections into the first section nested under all of them.
    const start = section.start;
    while (i + 1 < sections.length) {
      const next = sections[i + 1]!;
      const small = estimateTokens(text.slice(section.start, section.end).trim()) < MERGE_BELOW_TOKENS;
      const nested =
        next.headingPath.length > section.headingPath.length &&
        section.headingPath.every((part, index) => next.headingPath[index] === part);
      const adjacent = next.page === section.page && text.slice(section.end, next.start).trim() === "";
      if (!(small && nested && adjacent)) break;
      section = next;
      i++;
    }
    merged.push({ ...section, start });
  }
  return merged;
}

/** [start, end) offsets of the chunks of one section. */
function splitSection(text: string, section: Section, sizes: ChunkSizes): Array<[number, number]> {
  const raw = text.slice(section.start, section.end);
  const first = section.start + (raw.length - raw.trimStart().length);
  const last = section.start + raw.trimEnd().length;
  if (first >= last) return [];
  const fits = (a: number, b: number) => estimateTokens(text.slice(a, b)) <= sizes.targetTokens;
  // Only the breaks a chunk starting at `from` could end at: the work per chunk is bounded by the
  // target size, so a section is split in time linear in its length.
  const gapsFrom = (from: number) => gapsOf(text, first, from, Math.min(furthestFit(from, last, fits), last), last);
  const spans: Array<[number, number]> = [];
  let start = first;
  let previousEnd = first;
  while (start < last) {
    if (fits(start, last)) {
      spans.push([start, last]);
      break;
    }
    let gaps = gapsFrom(start);
    let end = chooseEnd(text, gaps, start, previousEnd, fits, sizes);
    if (end === null && start < previousEnd) {
      // The overlap leaves no room for the (long) word after it: start this chunk without overlap.
      start = skipSpace(text, previousEnd, last);
      if (fits(start, last)) {
        spans.push([start, last]);
        break;
      }
      gaps = gapsFrom(start);
      end = chooseEnd(text, gaps, start, previousEnd, fits, sizes);
    }
    if (end === null) {
      // One word longer than the whole target: the only place left to cut is inside it.
      const cut = hardCut(text, start, last, fits);
      spans.push([start, cut]);
      start = skipSpace(text, cut, last);
      previousEnd = cut;
      continue;
    }
    spans.push([start, end.end]);
    previousEnd = end.end;
    start = chooseNextStart(text, gaps, start, end, sizes);
  }
  return spans;
}

/**
 * The whitespace runs that start in [from, limit] and end before `last`, classified by strength;
 * `first` is where the section's text starts. One pass over the characters, none beyond `limit`
 * except those of a run that starts at or before it.
 */
function gapsOf(text: string, first: number, from: number, limit: number, last: number): Gap[] {
  const gaps: Gap[] = [];
  let at = from;
  while (at <= limit && at < last) {
    if (!isSpace(text.charCodeAt(at))) {
      at++;
      continue;
    }
    const end = at;
    let newlines = 0;
    for (; at < last && isSpace(text.charCodeAt(at)); at++) if (text.charCodeAt(at) === 0x0a) newlines++;
    if (at >= last) break;
    const level =
      newlines >= 2
        ? Level.Paragraph
        : newlines === 1
          ? Level.Line
          : /[.!?…;:]["'”’)\]]*$/.test(text.slice(Math.max(first, end - 4), end))
            ? Level.Sentence
            : Level.Word;
    gaps.push({ end, next: at, level });
  }
  return gaps;
}

/** JavaScript's `\s`: WhiteSpace and LineTerminator code units. */
function isSpace(code: number): boolean {
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * Where a chunk starting at `start` ends: the strongest break among those that keep it within the
 * target and fill at least MIN_FILL of it (the furthest one on ties); failing that, the furthest
 * break that fits. Always past `previousEnd`, so every chunk adds new text.
 */
function chooseEnd(
  text: string,
  gaps: readonly Gap[],
  start: number,
  previousEnd: number,
  fits: (a: number, b: number) => boolean,
  sizes: ChunkSizes,
): Gap | null {
  let best: Gap | null = null;
  let furthest: Gap | null = null;
  for (const gap of gaps) {
    if (gap.end <= start || gap.end <= previousEnd) continue;
    if (!fits(start, gap.end)) break;
    furthest = gap;
    if (estimateTokens(text.slice(start, gap.end)) < sizes.targetTokens * MIN_FILL) continue;
    if (!best || gap.level >= best.level) best = gap;
  }
  return best ?? furthest;
}

/**
 * Where the chunk after [start, end) begins: about `overlapTokens` before `end`. A sentence (or
 * stronger) start whose overlap is between half and one and a half times that is preferred, the
 * one nearest the target amount; else the earliest word start within the overlap; else no overlap.
 */
function chooseNextStart(text: string, gaps: readonly Gap[], start: number, end: Gap, sizes: ChunkSizes): number {
  const overlap = (gap: Gap) => estimateTokens(text.slice(gap.next, end.end));
  let sentence: Gap | null = null;
  let word: Gap | null = null;
  for (const gap of gaps) {
    if (gap.next <= start) continue;
    if (gap.next >= end.end) break;
    const tokens = overlap(gap);
    if (gap.level >= Level.Sentence && tokens >= sizes.overlapTokens * 0.5 && tokens <= sizes.overlapTokens * 1.5) {
      if (!sentence || Math.abs(tokens - sizes.overlapTokens) < Math.abs(overlap(sentence) - sizes.overlapTokens)) {
        sentence = gap;
      }
    }
    if (!word && tokens <= sizes.overlapTokens) word = gap;
  }
  return (sentence ?? word ?? end).next;
}

/** The furthest offset after `start` that fits, not splitting a surrogate pair. */
function hardCut(text: string, start: number, last: number, fits: (a: number, b: number) => boolean): number {
  let cut = furthestFit(start, last, fits);
  const code = text.charCodeAt(cut - 1);
  if (cut < last && code >= 0xd800 && code <= 0xdbff && cut - 1 > start) cut--;
  return cut;
}

/** The furthest offset in (start, last] up to which a chunk from `start` fits (start + 1 at least). */
function furthestFit(start: number, last: number, fits: (a: number, b: number) => boolean): number {
  let low = start + 1;
  let high = last;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(start, middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

function skipSpace(text: string, from: number, last: number): number {
  let at = from;
  while (at < last && isSpace(text.charCodeAt(at))) at++;
  return at;
}
