import { describe, expect, it } from "vitest";
import { kindOf, parseDocument, type DocumentKind, type ParsedDocument } from "../src/parse";
import { makePdf } from "./pdf";

const encode = (text: string) => new TextEncoder().encode(text);

async function parse(kind: DocumentKind, content: string | Uint8Array): Promise<ParsedDocument> {
  const result = await parseDocument(kind, typeof content === "string" ? encode(content) : content);
  if (!result.ok) throw new Error(`parse failed: ${JSON.stringify(result.error)}`);
  expectWellFormed(result.value);
  return result.value;
}

/** Sections in order, non-overlapping, within the text, each with some non-blank text. */
function expectWellFormed(doc: ParsedDocument): void {
  let previousEnd = 0;
  for (const section of doc.sections) {
    expect(section.start).toBeGreaterThanOrEqual(previousEnd);
    expect(section.end).toBeGreaterThan(section.start);
    expect(section.end).toBeLessThanOrEqual(doc.text.length);
    expect(doc.text.slice(section.start, section.end).trim()).not.toBe("");
    previousEnd = section.end;
  }
}

/** The section holding `needle`, by heading path and page. */
function sectionOf(doc: ParsedDocument, needle: string) {
  const at = doc.text.indexOf(needle);
  expect(at, `"${needle}" in the text`).toBeGreaterThanOrEqual(0);
  const section = doc.sections.find((s) => s.start <= at && at < s.end);
  expect(section, `a section holding "${needle}"`).toBeDefined();
  return { headingPath: section!.headingPath, page: section!.page };
}

describe("choosing a parser", () => {
  it("goes by content type, then by file extension", () => {
    expect(kindOf("text/markdown; charset=utf-8", "notes")).toBe("markdown");
    expect(kindOf("application/pdf", "scan.bin")).toBe("pdf");
    expect(kindOf("application/ld+json", "x")).toBe("json");
    expect(kindOf("", "Report.PDF")).toBe("pdf");
    expect(kindOf("application/octet-stream", "data.csv")).toBe("csv");
    // text/plain says little: browsers send it for .md and .csv files.
    expect(kindOf("text/plain", "README.md")).toBe("markdown");
    expect(kindOf("text/plain", "notes")).toBe("text");
    expect(kindOf("image/png", "photo.png")).toBeNull();
    expect(kindOf("application/zip", "archive")).toBeNull();
  });

  it("refuses bytes that are not text for text formats", async () => {
    const result = await parseDocument("text", new Uint8Array([0xff, 0xfe, 0x00, 0xd8, 0x41]));
    expect(result.ok).toBe(false);
    const binary = await parseDocument("markdown", new Uint8Array([0xc3, 0x28, 0xa0, 0xa1]));
    expect(!binary.ok && binary.error.code).toBe("bad_request");
  });
});

describe("plain text", () => {
  it("keeps the text, normalises line endings, one section without headings", async () => {
    const doc = await parse("text", "\uFEFFFirst line\r\nsecond line\r\n\r\nNext paragraph.\n");
    expect(doc.text).toBe("First line\nsecond line\n\nNext paragraph.\n");
    expect(doc.sections).toEqual([{ headingPath: [], start: 0, end: doc.text.trimEnd().length, page: null }]);
    expect(doc.title).toBeNull();
  });
});

describe("markdown", () => {
  const source = [
    "---",
    "title: front matter",
    "---",
    "Intro before any heading.",
    "",
    "# Handbook",
    "",
    "## Refunds",
    "",
    "Refunds take *14 days*.",
    "",
    "```",
    "# not a heading inside a fence",
    "```",
    "",
    "### Exceptions",
    "Sale items are final.",
    "",
    "Shipping [policy](https://example.com)",
    "---",
    "",
    "Ships in 3 days.",
    "",
    "## Contact ##",
    "Mail us.",
  ].join("\n");

  it("keeps the source as text and nests sections under their headings", async () => {
    const doc = await parse("markdown", source);
    expect(doc.text).toBe(source);
    expect(doc.title).toBe("Handbook");
    expect(sectionOf(doc, "Intro before")).toEqual({ headingPath: [], page: null });
    expect(sectionOf(doc, "title: front matter").headingPath).toEqual([]);
    expect(sectionOf(doc, "Refunds take").headingPath).toEqual(["Handbook", "Refunds"]);
    expect(sectionOf(doc, "# not a heading").headingPath).toEqual(["Handbook", "Refunds"]);
    expect(sectionOf(doc, "Sale items").headingPath).toEqual(["Handbook", "Refunds", "Exceptions"]);
    // A setext heading (text over ---) at level 2 closes "Refunds" and its h3.
    expect(sectionOf(doc, "Ships in 3").headingPath).toEqual(["Handbook", "Shipping policy"]);
    expect(sectionOf(doc, "Mail us").headingPath).toEqual(["Handbook", "Contact"]);
    // A section starts at its heading line, so the heading's words are in its text.
    const refunds = doc.sections.find((s) => s.headingPath.at(-1) === "Refunds")!;
    expect(doc.text.slice(refunds.start, refunds.end)).toMatch(/^## Refunds\n/);
  });
});

describe("html", () => {
  it("keeps visible text as paragraphs under heading paths; drops scripts, styles and comments", async () => {
    const html = `<!DOCTYPE html><html><head><title>Acme &amp; Co &mdash; Help</title>
      <style>body { color: red }</style><script>var secret = "<p>not text</p>";</script></head>
      <body><nav>Home</nav><!-- <p>hidden</p> -->
      <h1>Help <em>centre</em></h1><p>Welcome to   the
      help centre.</p>
      <h2>Refunds</h2><p>Refunds take 14&nbsp;days.</p><ul><li>Card</li><li>Cash &#8364;</li></ul>
      <h3>Exceptions</h3><div>Sale items<br>are final.</div>
      <h2>Prices</h2><table><tr><th>Item</th><th>Price</th></tr><tr><td>Tea</td><td>3 &lt; 4</td></tr></table>
      <pre>line 1
  line 2</pre><noscript>Enable JS</noscript><svg><text>svg text</text></svg></body></html>`;
    const doc = await parse("html", html);
    expect(doc.title).toBe("Acme & Co — Help");
    for (const hidden of ["color: red", "secret", "not text", "hidden", "Enable JS", "svg text"]) {
      expect(doc.text).not.toContain(hidden);
    }
    expect(doc.text).toContain("Welcome to the help centre.");
    expect(doc.text).toContain("Refunds take 14 days.");
    expect(doc.text).toContain("- Card\n\n- Cash €");
    expect(doc.text).toContain("Sale items\n\nare final.");
    expect(doc.text).toContain("Item | Price\n\nTea | 3 < 4");
    expect(doc.text).toContain("line 1\n  line 2");
    expect(sectionOf(doc, "Home")).toEqual({ headingPath: [], page: null });
    expect(sectionOf(doc, "Welcome").headingPath).toEqual(["Help centre"]);
    expect(sectionOf(doc, "Refunds take").headingPath).toEqual(["Help centre", "Refunds"]);
    expect(sectionOf(doc, "Cash").headingPath).toEqual(["Help centre", "Refunds"]);
    expect(sectionOf(doc, "are final").headingPath).toEqual(["Help centre", "Refunds", "Exceptions"]);
    expect(sectionOf(doc, "Tea |").headingPath).toEqual(["Help centre", "Prices"]);
    expect(doc.text.slice(doc.sections[1]!.start)).toMatch(/^Help centre\n\nWelcome/);
  });

  it("tolerates broken markup", async () => {
    const doc = await parse("html", "<p>one < two <b>bold<p>para <script>never closed");
    expect(doc.text).toBe("one < two bold\n\npara");
  });

  it("keeps thousands of unclosed paragraphs; a title inside SVG is not the document's", async () => {
    const doc = await parse("html", `<svg><title>icon</title></svg><title>Real</title>${"<p>x".repeat(20_000)}`);
    expect(doc.title).toBe("Real");
    expect(doc.text).toBe(Array(20_000).fill("x").join("\n\n"));
  });
});

describe("json", () => {
  it("writes values with their key paths, a section per top-level key", async () => {
    const doc = await parse(
      "json",
      JSON.stringify({
        title: "Catalogue",
        products: [
          { name: "Tea", price: 3, tags: ["green", "loose"], "shelf life": null },
          { name: "Mug", price: 9.5, available: false },
        ],
        empty: {},
      }),
    );
    expect(doc.title).toBe("Catalogue");
    expect(doc.text).toBe(
      [
        "title: Catalogue",
        "",
        'products[0].name: Tea\nproducts[0].price: 3\nproducts[0].tags[0]: green\nproducts[0].tags[1]: loose\nproducts[0]["shelf life"]: null',
        "",
        "products[1].name: Mug\nproducts[1].price: 9.5\nproducts[1].available: false",
        "",
        "empty: {}",
      ].join("\n"),
    );
    expect(sectionOf(doc, "title: Catalogue").headingPath).toEqual(["title"]);
    expect(sectionOf(doc, "products[1].name").headingPath).toEqual(["products"]);
    expect(sectionOf(doc, "products[0].name").headingPath).toEqual(["products"]);
    expect(doc.sections).toHaveLength(3);
  });

  it("handles top-level arrays and scalars, and refuses invalid JSON", async () => {
    const list = await parse("json", '[{"q": "Why?", "a": "Because."}, "plain"]');
    expect(list.text).toBe("[0].q: Why?\n[0].a: Because.\n\n[1]: plain");
    expect(sectionOf(list, "[1]: plain").headingPath).toEqual(["[1]"]);
    expect((await parse("json", '"just text"')).text).toBe("just text");
    const broken = await parseDocument("json", encode('{"a": '));
    expect(!broken.ok && broken.error).toMatchObject({
      code: "bad_request",
      message: expect.stringContaining("not valid JSON"),
    });
  });
});

describe("csv", () => {
  it("writes each row as header: value lines, honouring quotes", async () => {
    const csv = 'name,notes,price\r\nTea,"green, loose",3\r\n"Mug ""XL""","line one\nline two",\r\n,,\r\nPlate\r\n';
    const doc = await parse("csv", csv);
    expect(doc.text).toBe(
      'name: Tea\nnotes: green, loose\nprice: 3\n\nname: Mug "XL"\nnotes: line one\nline two\n\nname: Plate',
    );
    expect(doc.sections).toEqual([{ headingPath: [], start: 0, end: doc.text.length, page: null }]);
  });

  it("detects semicolons, reads TSV, and names headerless columns", async () => {
    expect((await parse("csv", "a;b\n1;2\n")).text).toBe("a: 1\nb: 2");
    expect((await parse("tsv", "a\tb\n1,5\t2\n")).text).toBe("a: 1,5\nb: 2");
    expect((await parse("csv", "a,\n1,2,3\n")).text).toBe("a: 1\ncolumn 2: 2\ncolumn 3: 3");
  });
});

describe("pdf", () => {
  it("extracts the text of each page with its page number", async () => {
    const pdf = makePdf(
      [
        ["Refund policy", "Refunds are processed within 14 days."],
        ["Shipping (standard)", "Parcels arrive in 3 to 5 business days."],
      ],
      "Customer handbook",
    );
    const doc = await parse("pdf", pdf);
    expect(doc.title).toBe("Customer handbook");
    expect(doc.sections.map((s) => s.page)).toEqual([1, 2]);
    expect(sectionOf(doc, "Refunds are processed within 14 days.")).toEqual({ headingPath: [], page: 1 });
    expect(sectionOf(doc, "Parcels arrive in 3 to 5 business days.")).toEqual({ headingPath: [], page: 2 });
    expect(doc.text).toContain("Shipping (standard)");
    expect(doc.text.indexOf("Refund policy")).toBeLessThan(doc.text.indexOf("Shipping"));
  });

  it("refuses a broken PDF and one without text", async () => {
    const broken = await parseDocument("pdf", encode("%PDF-1.4\nthis is not a pdf"));
    expect(!broken.ok && broken.error.code).toBe("bad_request");
    const blank = await parseDocument("pdf", makePdf([[]]));
    expect(!blank.ok && blank.error).toMatchObject({
      code: "bad_request",
      message: expect.stringContaining("no extractable text"),
    });
  });
});
