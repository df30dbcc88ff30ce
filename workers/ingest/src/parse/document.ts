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
import { RETRIEVAL_LIMITS, fail, ok, type RpcResult } from "@crispy/contracts";

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
 *
 * The text is capped at `maxChars` (RETRIEVAL_LIMITS.maxTextChars): parsers whose output can
 * outgrow their input (CSV repeats the header names on every row, JSON repeats key paths on every
 * line) stop at the cap, when `full` turns true, instead of building gigabytes that would be
 * refused anyway; `build()` then answers payload_too_large.
 */
export class TextBuilder {
  readonly #parts: string[] = [];
  #length = 0;
  #full = false;
  readonly #sections: Section[] = [];
  readonly #maxChars: number;

  constructor(maxChars: number = RETRIEVAL_LIMITS.maxTextChars) {
    this.#maxChars = maxChars;
  }

  /** True once a block did not fit: the document's text is over the limit. */
  get full(): boolean {
    return this.#full;
  }

  /** Characters a next block may still have (without its separator). */
  get remaining(): number {
    return Math.max(0, this.#maxChars - this.#length - (this.#length === 0 ? 0 : 2));
  }

  /** Records that the text is over the limit without building it (a parser counted ahead). */
  overflow(): void {
    this.#full = true;
    this.#parts.length = 0;
  }

  /** Appends one block; blank blocks are skipped. False once the text is over the limit. */
  block(text: string, headingPath: readonly string[], page: number | null = null): boolean {
    if (this.#full) return false;
    const content = text.trim();
    if (content === "") return true;
    if (content.length > this.remaining) {
      this.overflow();
      return false;
    }
    if (this.#length !== 0) {
      this.#parts.push("\n\n");
      this.#length += 2;
    }
    const start = this.#length;
    this.#parts.push(content);
    this.#length += content.length;
    const last = this.#sections.at(-1);
    if (last && last.page === page && samePath(last.headingPath, headingPath)) {
      last.end = this.#length;
    } else {
      this.#sections.push({ headingPath: [...headingPath], start, end: this.#length, page });
    }
    return true;
  }

  build(title: string | null = null): RpcResult<ParsedDocument> {
    if (this.#full) return textOverLimit(this.#maxChars);
    return ok({
      text: this.#parts.join(""),
      sections: this.#sections.map((s) => ({ ...s, headingPath: [...s.headingPath] })),
      title,
    });
  }
}

/** The refusal for a document whose text grew past the limit while it was parsed. */
export function textOverLimit(limit: number = RETRIEVAL_LIMITS.maxTextChars): ReturnType<typeof fail> {
  return fail("payload_too_large", `the document's text is over ${limit} characters; the limit is ${limit}`, {
    limitChars: limit,
  });
}

/** One line of text at most `max` characters, for titles and headings. */
export function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
