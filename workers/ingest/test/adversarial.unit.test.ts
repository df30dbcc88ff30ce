/**
 * Hostile input for every parser and for the chunker, at the largest size the platform accepts,
 * each with a CPU budget. Uploads are up to RETRIEVAL_LIMITS.maxUploadBytes (10 MiB) and every
 * parser sees that much, except text and Markdown, whose text is their source: over
 * maxTextChars (2,000,000) they are refused before parsing, so 2,000,000 characters is their
 * largest input. The chunker runs on parsed text, so 2,000,000 characters too.
 *
 * Budgets are generous for a loaded two-core machine (linear work here takes well under a second)
 * and far below what a quadratic implementation needs at these sizes: the old regex scanners
 * took 2.7 s for 80 KB of `<a` (n^1.9) and 5 s for an 80 KB Markdown heading line (n^2), i.e.
 * hours at 10 MiB; the old chunker took 3.6 s for 2,000,000 characters of short words.
 */
import { RETRIEVAL_LIMITS } from "@crispy/contracts";
import { beforeAll, describe, expect, it } from "vitest";
import { chunkDocument } from "../src/chunk";
import { parseDocument, type DocumentKind, type ParsedDocument } from "../src/parse";
import { MAX_CSV_COLUMNS } from "../src/parse/csv";
import { MAX_JSON_DEPTH } from "../src/parse/json";
import { parseMarkdown } from "../src/parse/markdown";
import { MAX_PDF_INFLATED_BYTES, MAX_PDF_PAGES } from "../src/parse/pdf";
import { parseText } from "../src/parse/text";
import { makePdf, makeStreamPdf } from "./pdf";

const MAX_BYTES = RETRIEVAL_LIMITS.maxUploadBytes;
const MAX_CHARS = RETRIEVAL_LIMITS.maxTextChars;

/** `unit` repeated to `size` characters (the last repetition cut), with `head` and `tail` around it. */
function fill(unit: string, size: number, head = "", tail = ""): string {
  const body = size - head.length - tail.length;
  return head + unit.repeat(Math.ceil(body / unit.length)).slice(0, body) + tail;
}

type Outcome = "ok" | "bad_request" | "payload_too_large";

async function timedParse(kind: DocumentKind, input: string | Uint8Array) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const started = performance.now();
  const result = await parseDocument(kind, bytes);
  const ms = performance.now() - started;
  console.log(`${kind} ${bytes.byteLength} bytes: ${ms.toFixed(0)} ms`);
  return { result, ms, bytes: bytes.byteLength };
}

function outcomeOf(result: Awaited<ReturnType<typeof parseDocument>>): Outcome | string {
  return result.ok ? "ok" : result.error.code;
}

interface Case {
  name: string;
  kind: DocumentKind;
  input: () => string | Uint8Array;
  expected: Outcome;
  budgetMs: number;
}

function runCases(cases: Case[]): void {
  for (const { name, kind, input, expected, budgetMs } of cases) {
    it(`${name}: ${expected} within ${budgetMs} ms`, async () => {
      const { result, ms } = await timedParse(kind, input());
      expect(outcomeOf(result)).toBe(expected);
      expect(ms).toBeLessThan(budgetMs);
    });
  }
}

describe("defects found against the running platform", () => {
  it("refuses JSON nested 20,000 levels deep with bad_request naming the depth limit", async () => {
    for (const deep of ["[".repeat(20_000) + "]".repeat(20_000), `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`]) {
      const result = await parseDocument("json", new TextEncoder().encode(deep));
      expect(!result.ok && result.error).toMatchObject({
        code: "bad_request",
        message: expect.stringContaining(`${MAX_JSON_DEPTH} levels`),
      });
    }
  });

  it("keeps JSON nested exactly MAX_JSON_DEPTH levels and refuses one level more", async () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}["deep"]${"}".repeat(depth - 1)}`;
    const kept = await parseDocument("json", new TextEncoder().encode(nested(MAX_JSON_DEPTH)));
    expect(kept.ok && kept.value.text).toBe(`a${".a".repeat(MAX_JSON_DEPTH - 2)}[0]: deep`);
    const refused = await parseDocument("json", new TextEncoder().encode(nested(MAX_JSON_DEPTH + 1)));
    expect(!refused.ok && refused.error.code).toBe("bad_request");
  });

  it("parses HTML of `<a` repeated 12,000 times (24 KB) in linear time", async () => {
    const { result, ms } = await timedParse("html", "<a".repeat(12_000));
    expect(result.ok && result.value.text).toBe("");
    expect(ms).toBeLessThan(100);
  });
});

describe("HTML at 10 MiB", () => {
  runCases([
    { name: "`<a` repeated", kind: "html", input: () => fill("<a", MAX_BYTES), expected: "ok", budgetMs: 3000 },
    {
      name: "unclosed `<!--` repeated",
      kind: "html",
      input: () => fill("<!--", MAX_BYTES),
      expected: "ok",
      budgetMs: 3000,
    },
    {
      name: "unclosed attribute quotes",
      kind: "html",
      input: () => fill("<p a='", MAX_BYTES),
      expected: "ok",
      budgetMs: 3000,
    },
    {
      name: "entity soup",
      kind: "html",
      input: () => fill("&amp;&#x26;&#38;&bogus;&&#;&#x;&nbsp&", MAX_BYTES),
      expected: "payload_too_large",
      budgetMs: 3000,
    },
    { name: "nested `<div>`", kind: "html", input: () => fill("<div>", MAX_BYTES), expected: "ok", budgetMs: 3000 },
    {
      name: "deep `<a>` then stray end tags",
      kind: "html",
      input: () => fill("</b>", MAX_BYTES, "<a>".repeat(16_000)),
      expected: "ok",
      budgetMs: 3000,
    },
    {
      name: "unclosed `<p>` paragraphs",
      kind: "html",
      input: () => fill("<p>x ", MAX_BYTES),
      expected: "payload_too_large",
      budgetMs: 3000,
    },
    {
      name: "empty table cells, then text",
      kind: "html",
      input: () => `<tr>${"<td></td>".repeat((MAX_BYTES - 5) / 9)}x`,
      expected: "payload_too_large",
      budgetMs: 3000,
    },
    {
      name: "a script never closed",
      kind: "html",
      input: () => fill("</scrip", MAX_BYTES, "<script>"),
      expected: "ok",
      budgetMs: 3000,
    },
    {
      name: "paragraphs under headings in markup, 1.5 million characters of text",
      kind: "html",
      input: () =>
        fill(
          `<div class="card"><h2 id="part">Part</h2><!-- ${"-".repeat(60)} --><script>track("view");</script><p style="margin: 0 auto">Some text &amp; more text.</p></div>\n`,
          MAX_BYTES,
        ),
      expected: "ok",
      budgetMs: 3000,
    },
  ]);
});

describe("Markdown at 2,000,000 characters", () => {
  runCases([
    {
      name: "a heading line of spaces",
      kind: "markdown",
      input: () => fill(" ", MAX_CHARS, "# a", "b"),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "a heading of unclosed `[`",
      kind: "markdown",
      input: () => fill("[", MAX_CHARS, "# "),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "a heading of unclosed `<`",
      kind: "markdown",
      input: () => fill("<", MAX_CHARS, "# "),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "a heading of unclosed links",
      kind: "markdown",
      input: () => fill("[a](", MAX_CHARS, "# "),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "emphasis, backticks and brackets",
      kind: "markdown",
      input: () => fill("*_`[(~", MAX_CHARS),
      expected: "ok",
      budgetMs: 2000,
    },
    { name: "`#` heading spam", kind: "markdown", input: () => fill("#\n", MAX_CHARS), expected: "ok", budgetMs: 4000 },
    { name: "nested quotes", kind: "markdown", input: () => fill(">", MAX_CHARS), expected: "ok", budgetMs: 2000 },
    { name: "nested list items", kind: "markdown", input: () => fill("- ", MAX_CHARS), expected: "ok", budgetMs: 2000 },
    {
      name: "setext headings",
      kind: "markdown",
      input: () => fill("Title\n===\n", MAX_CHARS),
      expected: "ok",
      budgetMs: 4000,
    },
    {
      name: "unclosed fences",
      kind: "markdown",
      input: () => fill("```\n~~~~\n", MAX_CHARS),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "10 MiB, over the text limit",
      kind: "markdown",
      input: () => fill("# a\n", MAX_BYTES),
      expected: "payload_too_large",
      budgetMs: 2000,
    },
  ]);
});

describe("plain text at 2,000,000 characters", () => {
  runCases([
    { name: "one word", kind: "text", input: () => fill("a", MAX_CHARS), expected: "ok", budgetMs: 1000 },
    { name: "only newlines", kind: "text", input: () => fill("\r\n", MAX_CHARS), expected: "ok", budgetMs: 1000 },
    {
      name: "control characters",
      kind: "text",
      input: () => fill("a\u0001\u000b ", MAX_CHARS),
      expected: "ok",
      budgetMs: 1000,
    },
  ]);
});

describe("CSV and TSV at 10 MiB", () => {
  const wideHeader = Array.from({ length: MAX_CSV_COLUMNS }, (_, i) => `c${i + 1}`).join(",");
  runCases([
    {
      name: "one unterminated quote",
      kind: "csv",
      input: () => fill("x", MAX_BYTES, 'name\n"'),
      expected: "payload_too_large",
      budgetMs: 2000,
    },
    {
      name: "one unterminated quote, 1.9 million characters",
      kind: "csv",
      input: () => fill("x,\n", 1_900_000, 'name\n"'),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "one huge field",
      kind: "csv",
      input: () => fill("x", MAX_BYTES, "name\n"),
      expected: "payload_too_large",
      budgetMs: 2000,
    },
    {
      name: "100,000 columns",
      kind: "csv",
      input: () => fill(",", MAX_BYTES, `${",".repeat(100_000)}\n`),
      expected: "bad_request",
      budgetMs: 2000,
    },
    {
      name: `${MAX_CSV_COLUMNS} columns, rows of empty cells`,
      kind: "csv",
      input: () => fill(`${",".repeat(MAX_CSV_COLUMNS - 1)}x\n`, MAX_BYTES, `${wideHeader}\n`),
      expected: "ok",
      budgetMs: 3000,
    },
    {
      name: "a long header name repeated on every row",
      kind: "csv",
      input: () => fill("1\n", MAX_BYTES, `${"h".repeat(100_000)}\n`),
      expected: "payload_too_large",
      budgetMs: 2000,
    },
    {
      name: "doubled quotes",
      kind: "csv",
      input: () => fill('""', MAX_BYTES, 'a\n"'),
      expected: "payload_too_large",
      budgetMs: 2000,
    },
    {
      name: "only line ends",
      kind: "csv",
      input: () => fill("\n", MAX_BYTES),
      expected: "bad_request",
      budgetMs: 2000,
    },
    { name: "TSV of tabs", kind: "tsv", input: () => fill("\t", MAX_BYTES), expected: "bad_request", budgetMs: 2000 },
  ]);
});

describe("JSON at 10 MiB", () => {
  const half = MAX_BYTES / 2;
  runCases([
    {
      name: "arrays nested 5 million deep",
      kind: "json",
      input: () => "[".repeat(half) + "]".repeat(half),
      expected: "bad_request",
      budgetMs: 2000,
    },
    {
      name: "objects nested 1.7 million deep",
      kind: "json",
      input: () => `${'{"a":'.repeat(MAX_BYTES / 6)}1${"}".repeat(MAX_BYTES / 6)}`,
      expected: "bad_request",
      budgetMs: 2000,
    },
    {
      name: "a huge flat array",
      kind: "json",
      input: () => fill("1,", MAX_BYTES, "[", "1]"),
      expected: "payload_too_large",
      budgetMs: 3000,
    },
    {
      name: "a huge array at the depth limit",
      kind: "json",
      input: () => fill("1,", MAX_BYTES, "[".repeat(MAX_JSON_DEPTH), `1${"]".repeat(MAX_JSON_DEPTH)}`),
      expected: "payload_too_large",
      budgetMs: 3000,
    },
    {
      name: "a long key repeated in every path",
      kind: "json",
      input: () => fill('"b":1,', MAX_BYTES, `{"${"k".repeat(1_000_000)}":{`, '"c":1}}'),
      expected: "payload_too_large",
      budgetMs: 3000,
    },
    {
      name: "a string of escapes",
      kind: "json",
      input: () => fill('\\"', MAX_BYTES, '"', '"'),
      expected: "payload_too_large",
      budgetMs: 2000,
    },
    {
      name: "whitespace around a value",
      kind: "json",
      input: () => fill(" ", MAX_BYTES, "[", '{"a":"b"}]'),
      expected: "ok",
      budgetMs: 2000,
    },
    {
      name: "records, 1.9 million characters of text",
      kind: "json",
      input: () => `[${'{"name":"Tea","price":3,"tags":["green"]},'.repeat(32_000)}1]`,
      expected: "ok",
      budgetMs: 3000,
    },
  ]);
});

describe("PDF", () => {
  // pdf.js is imported on first use (~1.5 s here): not part of any budget.
  beforeAll(async () => {
    await parseDocument("pdf", makePdf([["warm up"]]));
  });

  it(`refuses more than ${MAX_PDF_PAGES} pages with bad_request, before reading them`, async () => {
    const pdf = makePdf(Array.from({ length: MAX_PDF_PAGES + 1 }, (_, i) => [`Page ${i + 1}`]));
    const { result, ms } = await timedParse("pdf", pdf);
    expect(!result.ok && result.error).toMatchObject({
      code: "bad_request",
      message: expect.stringContaining(`the limit is ${MAX_PDF_PAGES}`),
    });
    expect(ms).toBeLessThan(3000);
  });

  it(`reads ${MAX_PDF_PAGES} pages within the budget`, async () => {
    const pdf = makePdf(Array.from({ length: MAX_PDF_PAGES }, (_, i) => [`Page ${i + 1}`, "Some text on it."]));
    const { result, ms } = await timedParse("pdf", pdf);
    expect(result.ok && result.value.sections.length).toBe(MAX_PDF_PAGES);
    expect(ms).toBeLessThan(5000);
  });

  it("reads a 10 MiB content stream within the budget", async () => {
    const content = new TextEncoder().encode(fill("(word) Tj ", MAX_BYTES - 1000, "BT /F1 12 Tf 72 720 Td ", " ET"));
    const { result, bytes, ms } = await timedParse("pdf", makeStreamPdf(content));
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(result.ok && result.value.text).toMatch(/^word/);
    expect(ms).toBeLessThan(5000);
  });

  it("refuses a compressed stream that inflates past the limit (a decompression bomb), padded to 10 MiB", async () => {
    const bomb = await deflated(MAX_PDF_INFLATED_BYTES + 1024 * 1024, "BT /F1 12 Tf 72 720 Td (hidden) Tj ET ");
    // Whole, and cut short (pdf.js decodes what is there; so must the check).
    for (const stream of [bomb, bomb.subarray(0, bomb.byteLength - 64)]) {
      const pdf = makeStreamPdf(stream, "/FlateDecode");
      // A comment after the file's end pads it to the upload limit.
      const padded = new Uint8Array(MAX_BYTES).fill(0x25);
      padded.set(pdf);
      padded[pdf.byteLength] = 0x0a;
      const { result, ms } = await timedParse("pdf", padded);
      expect(!result.ok && result.error).toMatchObject({
        code: "bad_request",
        message: expect.stringContaining("the limit is 64 MiB"),
      });
      expect(ms).toBeLessThan(3000);
    }
  });

  it("reads a compressed stream that inflates to half the limit", async () => {
    const stream = await deflated(MAX_PDF_INFLATED_BYTES / 2, "BT /F1 12 Tf 72 720 Td (found) Tj ET ");
    const { result, ms } = await timedParse("pdf", makeStreamPdf(stream, "/FlateDecode"));
    expect(result.ok && result.value.text).toBe("found");
    expect(ms).toBeLessThan(5000);
  });
});

describe("chunking 2,000,000 characters", () => {
  // The old chunker scanned every break of the section for every chunk: 1.7–3.6 s for these.
  const cases: Array<[string, () => ParsedDocument, number]> = [
    ["one word without spaces", () => parseText(fill("a", MAX_CHARS)), 1000],
    ["a word, 2,000,000 newlines, a word", () => parseText(fill("\n", MAX_CHARS, "a", "b")), 1000],
    ["short words", () => parseText(fill("a ", MAX_CHARS)), 1000],
    ["short lines", () => parseText(fill("ab\n", MAX_CHARS)), 1000],
    ["short sentences", () => parseText(fill("Hi. ", MAX_CHARS)), 1000],
    ["long words between spaces", () => parseText(fill(`${"x".repeat(5000)} `, MAX_CHARS)), 1000],
    ["heading spam (222,223 sections)", () => parseMarkdown(fill("# a\n## b\n", MAX_CHARS)), 2000],
  ];
  for (const [name, make, budgetMs] of cases) {
    it(`${name}: within ${budgetMs} ms`, () => {
      const document = make();
      const started = performance.now();
      const chunks = chunkDocument(document, { docId: "doc", version: 1 });
      const ms = performance.now() - started;
      console.log(`chunk ${name}: ${chunks.length} chunks, ${ms.toFixed(0)} ms`);
      expect(chunks.length).toBeGreaterThan(0);
      expect(ms).toBeLessThan(budgetMs);
    });
  }
});

/** `size` bytes of PDF content (`text` then spaces), deflated in 1 MiB pieces. */
async function deflated(size: number, text: string): Promise<Uint8Array> {
  const piece = new Uint8Array(1024 * 1024).fill(0x20);
  const first = piece.slice();
  first.set(new TextEncoder().encode(text));
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < size; at += piece.byteLength) {
        const part = at === 0 ? first : piece;
        controller.enqueue(part.subarray(0, Math.min(part.byteLength, size - at)));
      }
      controller.close();
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
}
