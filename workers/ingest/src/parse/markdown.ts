/**
 * Markdown: the text is the Markdown source itself (normalised), so offsets point into what the
 * author wrote; the structure comes from its headings. ATX (`## Title`) and setext (`Title` over
 * `===` / `---`) headings open sections; lines inside fenced code blocks and a leading YAML front
 * matter block are never headings. The first h1 is the document's title.
 */
import { normalizeText, oneLine, type ParsedDocument, type Section } from "./document";

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

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
  let offset = 0;
  let fence: string | null = null;
  let previous: { text: string; start: number; paragraph: boolean } | null = null;
  const lines = text.split("\n");
  let index = 0;
  if (lines[0] === "---") {
    const end = lines.indexOf("---", 1);
    if (end > 0) {
      for (; index <= end; index++) offset += lines[index]!.length + 1;
    }
  }
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    const start = offset;
    offset += line.length + 1;
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
    const atx = ATX.exec(line);
    if (atx) {
      headings.push({ level: atx[1]!.length, text: cleanInline(atx[2] ?? ""), start });
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
    const paragraph: boolean = !blank && previous === null && !/^\s*([-*+>|]|\d+[.)])\s|^ {4}|^\t/.test(line);
    previous = blank ? null : { text: line, start, paragraph };
  }
  return headings;
}

/** Heading text without inline Markdown: links keep their text, emphasis and code marks go. */
function cleanInline(text: string): string {
  return oneLine(
    text
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/[*_`~]+/g, "")
      .replace(/<[^>]+>/g, ""),
    200,
  );
}
