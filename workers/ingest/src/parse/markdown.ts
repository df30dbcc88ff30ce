/**
 * Markdown: the text is the Markdown source itself (normalised), so offsets point into what the
 * author wrote; the structure comes from its headings. ATX (`## Title`) and setext (`Title` over
 * `===` / `---`) headings open sections; lines inside fenced code blocks and a leading YAML front
 * matter block are never headings. The first h1 is the document's title.
 */
import { normalizeText, oneLine, type ParsedDocument, type Section } from "./document";

const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** Lines that a setext underline does not turn into a heading: list items, quotes, table rows, code. */
const NOT_PARAGRAPH = /^\s*([-*+>|]|\d+[.)])\s|^ {4}|^\t/;

interface Heading {
  level: number;
  text: string;
  /** Offset of the heading's first line. */
  start: number;
}

export function parseMarkdown(source: string): ParsedDocument {
  const text = normalizeText(source);
  const headings = findHeadings(text);
  const sections: Section[] = [];
  const stack: Heading[] = [];
  let path: string[] = [];
  let start = 0;
  const close = (end: number) => {
    const slice = text.slice(start, end);
    const first = start + (slice.length - slice.trimStart().length);
    const last = start + slice.trimEnd().length;
    if (first < last) sections.push({ headingPath: path, start: first, end: last, page: null });
  };
  for (const heading of headings) {
    close(heading.start);
    while (stack.length > 0 && stack.at(-1)!.level >= heading.level) stack.pop();
    stack.push(heading);
    path = stack.map((h) => h.text).filter((t) => t !== "");
    start = heading.start;
  }
  close(text.length);
  const title = headings.find((h) => h.level === 1 && h.text !== "")?.text ?? null;
  return { text, sections, title };
}

function findHeadings(text: string): Heading[] {
  const headings: Heading[] = [];
  let fence: string | null = null;
  let previous: { text: string; start: number; paragraph: boolean } | null = null;
  let offset = frontMatterEnd(text);
  // Line by line with indexOf rather than split("\n"): no array of millions of lines.
  while (offset <= text.length) {
    const start = offset;
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end);
    offset = end + 1;
    const fenceMatch = FENCE.exec(line);
    if (fence !== null) {
      if (fenceMatch && fenceMatch[1]![0] === fence[0] && fenceMatch[1]!.length >= fence.length) fence = null;
      previous = null;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1]!;
      previous = null;
      continue;
    }
    const atx = atxHeading(line);
    if (atx) {
      headings.push({ level: atx.level, text: cleanInline(atx.text), start });
      previous = null;
      continue;
    }
    const setext = SETEXT.exec(line);
    if (setext && previous?.paragraph) {
      headings.push({ level: setext[1]![0] === "=" ? 1 : 2, text: cleanInline(previous.text), start: previous.start });
      previous = null;
      continue;
    }
    const blank = line.trim() === "";
    // A setext underline only turns a single plain text line into a heading (not a list item,
    // quote, table row or indented code), which keeps `---` rules under paragraphs as rules.
    const paragraph: boolean = !blank && previous === null && !NOT_PARAGRAPH.test(line);
    previous = blank ? null : { text: line, start, paragraph };
  }
  return headings;
}

/** Where the text after a leading YAML front matter block (`---` lines around it) starts; else 0. */
function frontMatterEnd(text: string): number {
  if (!(text === "---" || text.startsWith("---\n"))) return 0;
  const close = text.indexOf("\n---\n", 3);
  if (close !== -1) return close + 5;
  return text.endsWith("\n---") && text.length > 4 ? text.length + 1 : 0;
}

/**
 * An ATX heading (`## Title ##`): up to three spaces, 1–6 `#`, then the end of the line or a space
 * or tab, then the text, without an optional closing run of `#` that follows a space or tab.
 * Scanned by hand in one pass: the regex it replaces backtracked quadratically on long runs of
 * spaces.
 */
function atxHeading(line: string): { level: number; text: string } | null {
  let at = 0;
  while (at < 3 && line[at] === " ") at++;
  let level = 0;
  while (line[at + level] === "#") level++;
  if (level < 1 || level > 6) return null;
  let start = at + level;
  if (start < line.length && !isBlank(line[start]!)) return null;
  // `.` in the old pattern stopped at line separators, which made such lines no heading.
  if (/[\u2028\u2029]/.test(line)) return null;
  while (start < line.length && isBlank(line[start]!)) start++;
  let end = line.length;
  while (end > start && isBlank(line[end - 1]!)) end--;
  let hashes = end;
  while (hashes > start && line[hashes - 1] === "#") hashes--;
  if (hashes < end && hashes > start && isBlank(line[hashes - 1]!)) {
    end = hashes;
    while (end > start && isBlank(line[end - 1]!)) end--;
  }
  return { level, text: line.slice(start, end) };
}

function isBlank(char: string): boolean {
  return char === " " || char === "\t";
}

/**
 * Heading text without inline Markdown: links keep their text, emphasis and code marks go. Each
 * pattern stops at the next bracket or parenthesis, so an unclosed `[`, `](` or `<` is scanned
 * once, not once per occurrence.
 */
function cleanInline(text: string): string {
  return oneLine(
    text
      .replace(/!?\[([^[\]]*)\]\([^()]*\)/g, "$1")
      .replace(/[*_`~]+/g, "")
      .replace(/<[^<>]+>/g, ""),
    200,
  );
}
