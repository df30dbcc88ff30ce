/**
 * Parsing: picks the parser for an upload by its content type, falling back to its file
 * extension when the type is missing, generic (application/octet-stream, text/plain) or unknown,
 * and runs it. Unsupported → "unsupported_media_type"; bytes a parser cannot read (invalid
 * UTF-8, broken JSON, unreadable PDF) or over a parser's structural limit (JSON depth, CSV columns,
 * PDF pages) → "bad_request"; text that grows past RETRIEVAL_LIMITS.maxTextChars while parsing →
 * "payload_too_large". Every parser runs in time linear in its input (see each one's header).
 */
import { RETRIEVAL_LIMITS, fail, ok, type RpcResult } from "@crispy/contracts";
import { parseCsv } from "./csv";
import { normalizeText, textOverLimit, type ParsedDocument } from "./document";
import { parseHtml } from "./html";
import { parseJson } from "./json";
import { parseMarkdown } from "./markdown";
import { parsePdf } from "./pdf";
import { parseText } from "./text";

export type { ParsedDocument, Section } from "./document";

export type DocumentKind = "text" | "markdown" | "html" | "json" | "csv" | "tsv" | "pdf";

/** The canonical content type recorded for each kind. */
export const CONTENT_TYPES: Readonly<Record<DocumentKind, string>> = {
  text: "text/plain",
  markdown: "text/markdown",
  html: "text/html",
  json: "application/json",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  pdf: "application/pdf",
};

const BY_TYPE: Readonly<Record<string, DocumentKind>> = {
  "text/plain": "text",
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/html": "html",
  "application/xhtml+xml": "html",
  "application/json": "json",
  "text/json": "json",
  "text/csv": "csv",
  "application/csv": "csv",
  "text/tab-separated-values": "tsv",
  "application/pdf": "pdf",
};

const BY_EXTENSION: Readonly<Record<string, DocumentKind>> = {
  txt: "text",
  text: "text",
  md: "markdown",
  markdown: "markdown",
  html: "html",
  htm: "html",
  xhtml: "html",
  json: "json",
  csv: "csv",
  tsv: "tsv",
  pdf: "pdf",
};

/** Types that say little about the content: a recognised file extension wins over them. */
const GENERIC_TYPES = new Set(["", "application/octet-stream", "binary/octet-stream", "text/plain"]);

export const SUPPORTED_EXTENSIONS = Object.keys(BY_EXTENSION);

/** The parser for a file, or null when neither its type nor its extension is supported. */
export function kindOf(contentType: string, fileName: string): DocumentKind | null {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  const extension = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? "";
  const fromType = BY_TYPE[type] ?? (type.endsWith("+json") ? "json" : undefined);
  const fromExtension = BY_EXTENSION[extension];
  if (fromType && !(GENERIC_TYPES.has(type) && fromExtension)) return fromType;
  return fromExtension ?? null;
}

/** Parses an upload of a known kind. */
export async function parseDocument(kind: DocumentKind, bytes: Uint8Array): Promise<RpcResult<ParsedDocument>> {
  if (kind === "pdf") return parsePdf(bytes);
  const text = decodeText(bytes);
  if (text === null) return fail("bad_request", "the file is not valid UTF-8 (or UTF-16 with a byte-order mark) text");
  // Text and Markdown keep the whole (normalised) source as their text: over the limit, nothing to parse.
  if ((kind === "text" || kind === "markdown") && text.length > RETRIEVAL_LIMITS.maxTextChars) {
    if (normalizeText(text).length > RETRIEVAL_LIMITS.maxTextChars) return textOverLimit();
  }
  switch (kind) {
    case "text":
      return ok(parseText(text));
    case "markdown":
      return ok(parseMarkdown(text));
    case "html":
      return parseHtml(text);
    case "json":
      return parseJson(text);
    case "csv":
      return parseCsv(text);
    case "tsv":
      return parseCsv(text, "\t");
  }
}

/** UTF-8, or UTF-16 when a byte-order mark says so; null for bytes that are not text. */
function decodeText(bytes: Uint8Array): string | null {
  const encoding =
    bytes[0] === 0xff && bytes[1] === 0xfe ? "utf-16le" : bytes[0] === 0xfe && bytes[1] === 0xff ? "utf-16be" : "utf-8";
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}
