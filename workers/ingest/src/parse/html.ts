/**
 * HTML: visible text only. Scripts, styles, templates, SVG and similar are dropped with their
 * content; comments and declarations too. Block elements (p, div, li, tr, …) end a block, so
 * paragraphs stay paragraphs; h1–h6 become headings that open sections with their heading path.
 * Whitespace collapses as a browser would, except inside <pre>. Entities are decoded. The
 * <title> is the document's title. A small hand-written scanner, not a full HTML5 parser: enough
 * for documents, tolerant of unclosed tags.
 */
import { TextBuilder, normalizeText, oneLine, type ParsedDocument } from "./document";
import { decodeEntities } from "./entities";

/** Elements whose content is never visible text. */
const SKIPPED = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
  "canvas",
  "textarea",
  "select",
]);

const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "body",
  "br",
  "caption",
  "dd",
  "details",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "header",
  "hr",
  "html",
  "li",
  "main",
  "nav",
  "ol",
  "p",
  "pre",
  "section",
  "summary",
  "table",
  "tbody",
  "tfoot",
  "thead",
  "tr",
  "ul",
]);

/** Table cells are separated by " | " within their row. */
const CELLS = new Set(["td", "th"]);

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/y;

export function parseHtml(source: string): ParsedDocument {
  const html = normalizeText(source);
  const builder = new TextBuilder();
  const stack: Array<{ level: number; text: string }> = [];
  let inline = "";
  let heading: { level: number; text: string } | null = null;
  let preDepth = 0;
  let title: string | null = null;

  const path = () => stack.map((h) => h.text);
  const flush = () => {
    if (heading) return;
    // A row's last cell leaves a dangling separator.
    builder.block(inline.replace(/(?:\s*\|)+\s*$/, ""), path());
    inline = "";
  };
  const append = (raw: string) => {
    const decoded = decodeEntities(raw);
    const text = preDepth > 0 ? decoded : decoded.replace(/[ \t\n\f]+/g, " ");
    if (heading) heading.text += text;
    else inline += text;
  };

  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt === -1) {
      append(html.slice(i));
      break;
    }
    if (lt > i) append(html.slice(i, lt));
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[lt + 1] === "!" || html[lt + 1] === "?") {
      const end = html.indexOf(">", lt);
      i = end === -1 ? html.length : end + 1;
      continue;
    }
    TAG.lastIndex = lt;
    const tag = TAG.exec(html);
    if (!tag) {
      append("<");
      i = lt + 1;
      continue;
    }
    i = lt + tag[0].length;
    const closing = tag[1] === "/";
    const name = tag[2]!.toLowerCase();
    const selfClosing = tag[3]!.trimEnd().endsWith("/");

    if (!closing && (SKIPPED.has(name) || name === "title")) {
      if (selfClosing) continue;
      const end = indexOfClosing(html, name, i);
      if (name === "title" && title === null) title = oneLine(decodeEntities(html.slice(i, end.contentEnd))) || null;
      i = end.after;
      continue;
    }
    const level = /^h([1-6])$/.exec(name);
    if (level) {
      if (!closing) {
        flush();
        heading = { level: Number(level[1]), text: "" };
      } else if (heading) {
        const text = oneLine(heading.text, 200);
        const opened = heading;
        heading = null;
        if (text !== "") {
          while (stack.length > 0 && stack.at(-1)!.level >= opened.level) stack.pop();
          stack.push({ level: opened.level, text });
          builder.block(text, path());
        }
      }
      continue;
    }
    if (name === "pre") preDepth = Math.max(0, preDepth + (closing ? -1 : 1));
    if (CELLS.has(name)) {
      if (closing) append(" | ");
      continue;
    }
    if (BLOCKS.has(name)) {
      if (heading) {
        append(" ");
        continue;
      }
      flush();
      if (name === "li" && !closing) inline = "- ";
    }
  }
  if (heading) {
    const pending: { level: number; text: string } = heading;
    heading = null;
    inline = pending.text;
  }
  flush();
  return builder.build(title);
}

/** Where the element's content ends and parsing resumes; an unclosed element runs to the end. */
function indexOfClosing(html: string, name: string, from: number): { contentEnd: number; after: number } {
  const pattern = new RegExp(`</${name}\\s*>`, "ig");
  pattern.lastIndex = from;
  const match = pattern.exec(html);
  return match
    ? { contentEnd: match.index, after: match.index + match[0].length }
    : { contentEnd: html.length, after: html.length };
}
