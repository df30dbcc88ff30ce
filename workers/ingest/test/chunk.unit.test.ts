import { estimateTokens } from "@crispy/ai";
import { describe, expect, it } from "vitest";
import { CHUNK_OVERLAP_TOKENS, CHUNK_TARGET_TOKENS, chunkDocument, type DocumentChunk } from "../src/chunk";
import { parseMarkdown } from "../src/parse/markdown";
import { parseText } from "../src/parse/text";
import type { ParsedDocument } from "../src/parse";

const identity = { docId: "doc-1", version: 3 };

/** A deterministic sentence generator: varied words and lengths, numbered so every sentence is unique. */
function sentences(count: number, seed = 1): string[] {
  const words = [
    "refund",
    "parcel",
    "customer",
    "warehouse",
    "invoice",
    "the",
    "within",
    "days",
    "policy",
    "shipping",
    "return",
    "label",
    "courier",
    "order",
    "support",
  ];
  const out: string[] = [];
  let state = seed;
  for (let i = 0; i < count; i++) {
    const length = 6 + (i % 11);
    const picked: string[] = [];
    for (let w = 0; w < length; w++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      picked.push(words[state % words.length]!);
    }
    out.push(`Sentence ${seed}.${i} ${picked.join(" ")}.`);
  }
  return out;
}

function paragraphs(count: number, perParagraph: number, seed = 1): string {
  return Array.from({ length: count }, (_, p) => sentences(perParagraph, seed * 100 + p).join(" ")).join("\n\n");
}

function expectInvariants(doc: ParsedDocument, chunks: DocumentChunk[]): void {
  expect(chunks.length).toBeGreaterThan(0);
  chunks.forEach((chunk, seq) => {
    const { start, end } = chunk.provenance;
    expect(doc.text.slice(start, end)).toBe(chunk.text);
    expect(chunk.text.trim()).toBe(chunk.text);
    expect(chunk.text).not.toBe("");
    expect(chunk.tokens).toBe(estimateTokens(chunk.text));
    expect(chunk.tokens).toBeLessThanOrEqual(CHUNK_TARGET_TOKENS);
    expect(chunk.seq).toBe(seq);
    expect(chunk.chunkId).toBe(`doc-1:v3:${seq}`);
    expect(chunk.provenance).toMatchObject({ docId: "doc-1", version: 3 });
    // Never split inside a word: each end is followed by whitespace (or the end of the text) and
    // each start preceded by whitespace (or the start of the text).
    expect(end === doc.text.length || /\s/.test(doc.text[end]!)).toBe(true);
    expect(start === 0 || /\s/.test(doc.text[start - 1]!)).toBe(true);
  });
}

describe("chunkDocument", () => {
  it("keeps a short document whole", () => {
    const doc = parseText("  A short note about refunds.\n\nAnd a second paragraph.  \n");
    const chunks = chunkDocument(doc, identity);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.text).toBe("A short note about refunds.\n\nAnd a second paragraph.");
    expectInvariants(doc, chunks);
  });

  it("cuts a long text into bounded, overlapping chunks whose offsets slice back to their text", () => {
    const doc = parseText(paragraphs(30, 7));
    const chunks = chunkDocument(doc, identity);
    expectInvariants(doc, chunks);
    expect(chunks.length).toBeGreaterThan(10);
    // Chunks are reasonably full: all but the last hold at least half the target.
    for (const chunk of chunks.slice(0, -1)) expect(chunk.tokens).toBeGreaterThanOrEqual(CHUNK_TARGET_TOKENS / 2);
    // Consecutive chunks overlap by roughly 15% of the target (a sentence or a few words).
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]!.provenance;
      const current = chunks[i]!.provenance;
      expect(current.start).toBeGreaterThan(previous.start);
      expect(current.end).toBeGreaterThan(previous.end);
      expect(current.start).toBeLessThan(previous.end);
      const overlap = estimateTokens(doc.text.slice(current.start, previous.end));
      expect(overlap).toBeGreaterThanOrEqual(5);
      expect(overlap).toBeLessThanOrEqual(CHUNK_OVERLAP_TOKENS * 1.5);
    }
    // The chunks cover the whole text.
    expect(chunks[0]!.provenance.start).toBe(0);
    expect(chunks.at(-1)!.provenance.end).toBe(doc.text.length);
  });

  it("prefers paragraph ends, then sentence ends, over word breaks", () => {
    const doc = parseText(paragraphs(20, 5, 7));
    const chunks = chunkDocument(doc, identity);
    expectInvariants(doc, chunks);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.text).toMatch(/\.$/);
    const atParagraph = chunks.slice(0, -1).filter((c) => doc.text.startsWith("\n\n", c.provenance.end));
    expect(atParagraph.length).toBeGreaterThan(chunks.length / 2);
  });

  it("falls back to words for a paragraph without sentence ends, and never splits a word", () => {
    const words = Array.from({ length: 1500 }, (_, i) => `word${i}`).join(" ");
    const doc = parseText(words);
    const chunks = chunkDocument(doc, identity);
    expectInvariants(doc, chunks);
    for (const chunk of chunks) expect(chunk.text).toMatch(/^word\d+( word\d+)*$/);
  });

  it("cuts inside a word only when the word alone is longer than the target", () => {
    const blob = "x".repeat(CHUNK_TARGET_TOKENS * 4 * 2 + 10);
    const doc = parseText(`Before the blob. ${blob} After the blob.`);
    const chunks = chunkDocument(doc, identity);
    for (const chunk of chunks) {
      expect(doc.text.slice(chunk.provenance.start, chunk.provenance.end)).toBe(chunk.text);
      expect(chunk.tokens).toBeLessThanOrEqual(CHUNK_TARGET_TOKENS);
    }
    expect(chunks.map((c) => c.text).join("")).toContain("x".repeat(100));
    expect(chunks.at(-1)!.text).toMatch(/After the blob\.$/);
  });

  it("never crosses a heading, and gives every chunk its heading path", () => {
    const source = [
      "# Guide",
      "",
      "## Refunds",
      "",
      paragraphs(6, 6, 2),
      "",
      "### Exceptions",
      "",
      "Sale items are final.",
      "",
      "## Shipping",
      "",
      paragraphs(3, 6, 3),
    ].join("\n");
    const doc = parseMarkdown(source);
    const chunks = chunkDocument(doc, identity);
    expectInvariants(doc, chunks);
    const paths = chunks.map((c) => c.provenance.headingPath.join(" > "));
    expect(new Set(paths)).toEqual(new Set(["Guide > Refunds", "Guide > Refunds > Exceptions", "Guide > Shipping"]));
    // The bare "# Guide" heading is folded into the section it heads, not a chunk of its own.
    expect(chunks[0]!.text).toMatch(/^# Guide\n\n## Refunds\n\n/);
    const exceptions = chunks.filter((c) => c.provenance.headingPath.at(-1) === "Exceptions");
    expect(exceptions.map((c) => c.text)).toEqual(["### Exceptions\n\nSale items are final."]);
    // The only section a chunk may reach into is its own (after the bare heading folded into it).
    for (const chunk of chunks) {
      const { start, end, headingPath } = chunk.provenance;
      for (const section of doc.sections.filter((s) => s.start > start && s.start < end)) {
        expect(section.headingPath).toEqual(headingPath);
      }
    }
  });

  it("keeps chunks within their PDF page", () => {
    const pageOne = paragraphs(4, 8, 4);
    const pageTwo = paragraphs(2, 4, 5);
    const text = `${pageOne}\n\n${pageTwo}`;
    const doc: ParsedDocument = {
      text,
      title: null,
      sections: [
        { headingPath: [], start: 0, end: pageOne.length, page: 1 },
        { headingPath: [], start: pageOne.length + 2, end: text.length, page: 2 },
      ],
    };
    const chunks = chunkDocument(doc, identity);
    expectInvariants(doc, chunks);
    expect(chunks.at(-1)!.provenance.page).toBe(2);
    for (const chunk of chunks) {
      const page = chunk.provenance.start < pageOne.length ? 1 : 2;
      expect(chunk.provenance.page).toBe(page);
      if (page === 1) expect(chunk.provenance.end).toBeLessThanOrEqual(pageOne.length);
    }
  });

  it("is deterministic and yields no chunk for a blank document", () => {
    const doc = parseMarkdown(`# T\n\n${paragraphs(12, 6, 9)}`);
    expect(chunkDocument(doc, identity)).toEqual(chunkDocument(doc, identity));
    expect(chunkDocument(parseText(" \n\n \t"), identity)).toEqual([]);
  });
});
