/**
 * HTML: visible text only. Scripts, styles, templates, SVG and similar are dropped with their
 * content; comments and declarations too. Block elements (p, div, li, tr, …) end a block, so
 * paragraphs stay paragraphs; h1–h6 become headings that open sections with their heading path.
 * Whitespace collapses as a browser would, except inside <pre>. Entities are decoded. The
 * <title> is the document's title. Tolerant of unclosed and stray tags.
 *
 * Tokens come from htmlparser2's Tokenizer (a maintained, streaming HTML tokenizer: one pass over
 * the input, no backtracking, no tree); the rules above are a small state machine over its tag and
 * text events that keeps O(1) state per event (no stack of open elements), so the whole parse is
 * linear in the input whatever the nesting or the number of unclosed and stray tags.
 * Why not the runtime's HTMLRewriter: measured in workerd, each handler call costs ~17 µs (1 MB of
 * `<p>x</p>` takes ~6 s), it refuses documents with more than 16,384 unclosed elements (ordinary
 * `<p>` or `<li>` without end tags) and single tags or comments over ~2 MB ("memory limit
 * exceeded"), and each stray end tag scans its open-element stack.
 */
import type { RpcResult } from "@crispy/contracts";
import { Tokenizer } from "htmlparser2";
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

const HEADING = /^h([1-6])$/;

interface Heading {
  level: number;
  text: string;
}

export function parseHtml(source: string): RpcResult<ParsedDocument> {
  const html = normalizeText(source);
  const builder = new TextBuilder();
  const stack: Heading[] = [];
  let inline = "";
  let heading: Heading | null = null;
  let preDepth = 0;
  let title: string | null = null;
  /** Raw text since the last tag, decoded and collapsed as one piece when the next tag comes. */
  let pending: string[] = [];
  /** The element whose content is being dropped (or read as the title), until its end tag. */
  let skipping: string | null = null;
  let titleParts: string[] | null = null;
  let tagName = "";

  const path = () => stack.map((h) => h.text);
  const flush = () => {
    if (heading) return;
    // A row's last cell leaves a dangling separator.
    if (!builder.block(withoutTrailingSeparators(inline), path())) tokenizer.pause();
    inline = "";
  };
  const append = (text: string) => {
    if (heading) heading.text += text;
    else inline += text;
  };
  const appendPending = () => {
    if (pending.length === 0) return;
    const decoded = decodeEntities(pending.join(""));
    pending = [];
    append(preDepth > 0 ? decoded : decoded.replace(/[ \t\n\f]+/g, " "));
  };

  const open = (name: string, selfClosing: boolean) => {
    if (skipping !== null) return;
    appendPending();
    if (SKIPPED.has(name) || name === "title") {
      if (selfClosing) return;
      skipping = name;
      if (name === "title" && title === null) titleParts = [];
      return;
    }
    const level = HEADING.exec(name);
    if (level) {
      flush();
      heading = { level: Number(level[1]), text: "" };
      return;
    }
    if (name === "pre") preDepth++;
    if (CELLS.has(name)) return;
    if (BLOCKS.has(name)) {
      if (heading) {
        append(" ");
        return;
      }
      flush();
      if (name === "li") inline = "- ";
    }
  };

  const close = (name: string) => {
    if (skipping !== null) {
      if (name !== skipping) return;
      skipping = null;
      if (titleParts !== null) {
        title = oneLine(decodeEntities(titleParts.join(""))) || null;
        titleParts = null;
      }
      return;
    }
    appendPending();
    if (HEADING.test(name)) {
      if (!heading) return;
      const opened: Heading = heading;
      const text = oneLine(opened.text, 200);
      heading = null;
      if (text !== "") {
        while (stack.length > 0 && stack.at(-1)!.level >= opened.level) stack.pop();
        stack.push({ level: opened.level, text });
        if (!builder.block(text, path())) tokenizer.pause();
      }
      return;
    }
    if (name === "pre") preDepth = Math.max(0, preDepth - 1);
    if (CELLS.has(name)) {
      append(" | ");
      return;
    }
    if (BLOCKS.has(name)) {
      if (heading) append(" ");
      else flush();
    }
  };

  const ignore = () => {};
  const tokenizer = new Tokenizer(
    { decodeEntities: false },
    {
      ontext(start, end) {
        if (skipping === null) pending.push(html.slice(start, end));
        else titleParts?.push(html.slice(start, end));
      },
      onopentagname(start, end) {
        tagName = html.slice(start, end).toLowerCase();
      },
      onopentagend() {
        open(tagName, false);
      },
      onselfclosingtag() {
        open(tagName, true);
      },
      onclosetag(start, end) {
        close(html.slice(start, end).toLowerCase());
      },
      onattribdata: ignore,
      onattribentity: ignore,
      onattribend: ignore,
      onattribname: ignore,
      oncdata: ignore,
      oncomment: ignore,
      ondeclaration: ignore,
      onend: ignore,
      onprocessinginstruction: ignore,
      ontextentity: ignore,
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  if (titleParts !== null) title = oneLine(decodeEntities((titleParts as string[]).join(""))) || null;
  appendPending();
  if (heading) {
    const unclosed: Heading = heading;
    heading = null;
    inline = unclosed.text;
  }
  flush();
  return builder.build(title);
}

/** The text without the " | " separators (and whitespace) it ends with, in one backward pass. */
function withoutTrailingSeparators(text: string): string {
  let end = text.length;
  let cut = -1;
  while (end > 0) {
    const char = text[end - 1]!;
    if (char === "|") cut = end - 1;
    else if (!/\s/.test(char)) break;
    end--;
  }
  return cut === -1 ? text : text.slice(0, cut);
}
