/**
 * What every parser produces: the document's plain text and its structure. Offsets in `sections`
 * (and later in chunk provenance) index into `text`, so `text.slice(start, end)` is always the
 * part of the document they describe.
 *
 * Invariants (checked by the parser tests):
 * - Sections are in document order, do not overlap, and each covers some non-blank text.
 * - A section's `headingPath` is the chain of headings it sits under, outermost first ([] before
 *   the first heading); `page` is its 1-based PDF page, else null.
 */
export interface Section {
  headingPath: string[];
  start: number;
  end: number;
  page: number | null;
}

export interface ParsedDocument {
  text: string;
  sections: Section[];
  /** A title found in the document itself (HTML <title>, first Markdown h1, PDF metadata). */
  title: string | null;
}

/** Line endings to "\n", no byte-order mark, no control characters except tab and newline. */
export function normalizeText(text: string): string {
  return (
    text
      .replace(/^\uFEFF/, "")
      .replace(/\r\n?/g, "\n")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, "")
  );
}

/**
 * Builds a document from blocks (paragraphs, headings, rows, pages): blocks are joined by a blank
 * line, and consecutive blocks with the same heading path and page form one section.
 */
export class TextBuilder {
  #text = "";
  readonly #sections: Section[] = [];

  /** Appends one block; blank blocks are skipped. */
  block(text: string, headingPath: readonly string[], page: number | null = null): void {
    const content = text.trim();
    if (content === "") return;
    if (this.#text !== "") this.#text += "\n\n";
    const start = this.#text.length;
    this.#text += content;
    const last = this.#sections.at(-1);
    if (last && last.page === page && samePath(last.headingPath, headingPath)) {
      last.end = this.#text.length;
    } else {
      this.#sections.push({ headingPath: [...headingPath], start, end: this.#text.length, page });
    }
  }

  build(title: string | null = null): ParsedDocument {
    return {
      text: this.#text,
      sections: this.#sections.map((s) => ({ ...s, headingPath: [...s.headingPath] })),
      title,
    };
  }
}

/** One line of text at most `max` characters, for titles and headings. */
export function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
