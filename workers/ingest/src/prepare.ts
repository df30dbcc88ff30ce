/**
 * Checks and prepares an ingest request before any storage is touched: exactly one of `text` or
 * `file`, sizes within RETRIEVAL_LIMITS, a supported file type, a parseable file whose text fits
 * `maxTextChars`, a valid (or freshly derived) document id, a title, and the content hash.
 *
 * Failures: "payload_too_large" (file or text over its limit), "unsupported_media_type",
 * "bad_request" (no or both inputs, empty or unreadable content, invalid id).
 */
import {
  DOCUMENT_ID_MESSAGE,
  DOCUMENT_ID_PATTERN,
  HTTP_URL_MESSAGE,
  RESERVED_METADATA_KEYS,
  isHttpUrl,
  RETRIEVAL_LIMITS,
  TEXT_FORMATS,
  fail,
  ok,
  type IngestInput,
  type RpcResult,
} from "@crispy/contracts";
import { contentHash } from "./content-hash";
import type { NewDocument } from "./document-index";
import { newDocumentId } from "./ids";
import { CONTENT_TYPES, SUPPORTED_EXTENSIONS, kindOf, parseDocument, type DocumentKind } from "./parse";
import { oneLine } from "./parse/document";
import { safeFileName } from "./raw-files";

export interface PreparedIngest {
  kind: DocumentKind;
  /** The bytes stored in R2 (the upload, or the text as UTF-8). */
  bytes: Uint8Array;
  /** The file's name in R2. */
  fileName: string;
  /** The document as rag will record it, except its version (known once the file is stored). */
  document: Omit<NewDocument, "version">;
}

/** What is wrong with the shape of an ingest input (from a caller with a bug), or null. */
function inputProblem(input: unknown): string | null {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return "input must be an object";
  const { id, title, source, url, text, format, file, metadata } = input as Record<string, unknown>;
  for (const [name, value, max] of [
    ["id", id, 96],
    ["title", title, 300],
    ["source", source, 300],
    ["url", url, 2048],
  ] as const) {
    if (value !== undefined && value !== null && (typeof value !== "string" || value.length > max)) {
      return `${name} must be text of at most ${max} characters`;
    }
  }
  if (text !== undefined && typeof text !== "string") return "text must be a string";
  if (format !== undefined && !TEXT_FORMATS.includes(format as (typeof TEXT_FORMATS)[number])) {
    return `format must be one of ${TEXT_FORMATS.join(", ")}`;
  }
  if (file !== undefined && file !== null) {
    const { name, contentType, bytes } = file as Record<string, unknown>;
    if (typeof name !== "string" || typeof contentType !== "string")
      return "file.name and file.contentType must be strings";
    if (!(bytes instanceof ArrayBuffer) && !ArrayBuffer.isView(bytes)) return "file.bytes must be bytes";
  }
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
      return "metadata must be an object";
    const entries = Object.entries(metadata);
    if (entries.length > RETRIEVAL_LIMITS.maxMetadataKeys)
      return `metadata may have at most ${RETRIEVAL_LIMITS.maxMetadataKeys} keys`;
    for (const [key, value] of entries) {
      if (RESERVED_METADATA_KEYS.has(key) || key.length === 0 || key.length > RETRIEVAL_LIMITS.maxMetadataKeyChars) {
        return `metadata key "${key.slice(0, 64)}" is not allowed`;
      }
      const scalar =
        typeof value === "string" ||
        typeof value === "boolean" ||
        (typeof value === "number" && Number.isFinite(value));
      if (!scalar) return `metadata "${key.slice(0, 64)}" must be a string, number or boolean`;
    }
  }
  return null;
}

export async function prepareIngest(input: IngestInput): Promise<RpcResult<PreparedIngest>> {
  const shape = inputProblem(input);
  if (shape) return fail("bad_request", shape);
  const hasText = typeof input.text === "string";
  const hasFile = input.file !== undefined && input.file !== null;
  if (hasText === hasFile) return fail("bad_request", "give exactly one of `text` or `file`");
  if (input.id !== undefined && !DOCUMENT_ID_PATTERN.test(input.id)) {
    return fail("bad_request", `id ${DOCUMENT_ID_MESSAGE}`);
  }
  if (input.url !== undefined && input.url !== null && !isHttpUrl(input.url)) {
    return fail("bad_request", `url ${HTTP_URL_MESSAGE}`);
  }
  const limit = RETRIEVAL_LIMITS.maxUploadBytes;
  let kind: DocumentKind;
  let bytes: Uint8Array;
  let fileName: string;
  let originalName: string | null = null;
  if (hasText) {
    if (input.text!.length > RETRIEVAL_LIMITS.maxTextChars) return textTooLong(input.text!.length);
    bytes = new TextEncoder().encode(input.text!);
    if (bytes.byteLength > limit) return tooLarge(bytes.byteLength);
    const format = input.format ?? "text";
    if (!TEXT_FORMATS.includes(format)) return fail("bad_request", `format must be one of ${TEXT_FORMATS.join(", ")}`);
    kind = format;
    fileName = safeFileName("source", kind);
  } else {
    const file = input.file!;
    const given: ArrayBuffer | ArrayBufferView = file.bytes;
    bytes = ArrayBuffer.isView(given)
      ? new Uint8Array(given.buffer, given.byteOffset, given.byteLength)
      : new Uint8Array(given);
    if (bytes.byteLength > limit) return tooLarge(bytes.byteLength);
    if (bytes.byteLength === 0) return fail("bad_request", "the file is empty");
    const found = kindOf(file.contentType ?? "", file.name ?? "");
    if (!found) {
      return fail(
        "unsupported_media_type",
        `unsupported file type "${file.contentType}" (${file.name}); supported: ${SUPPORTED_EXTENSIONS.map((e) => `.${e}`).join(" ")}`,
        { contentType: file.contentType ?? "", supported: Object.values(CONTENT_TYPES) },
      );
    }
    kind = found;
    fileName = safeFileName(file.name, kind);
    originalName = file.name || null;
  }
  const parsed = await parseDocument(kind, bytes);
  if (!parsed.ok) return parsed;
  const { text } = parsed.value;
  if (text.length > RETRIEVAL_LIMITS.maxTextChars) return textTooLong(text.length);
  if (text.trim() === "") return fail("bad_request", "the document has no text to index");

  const title =
    oneLine(input.title ?? "") || parsed.value.title || (originalName ? oneLine(originalName) : "") || firstLine(text);
  const source = input.source ?? null;
  const url = input.url ?? null;
  const metadata = input.metadata ?? {};
  return ok({
    kind,
    bytes,
    fileName,
    document: {
      id: input.id ?? newDocumentId(input.title ?? originalName ?? title),
      title,
      source,
      url,
      metadata,
      contentHash: await contentHash({ text, title, source, url, metadata, contentType: CONTENT_TYPES[kind] }),
      contentType: CONTENT_TYPES[kind],
      bytes: bytes.byteLength,
    },
  });
}

function firstLine(text: string): string {
  return oneLine(text.trim().split("\n", 1)[0]!, 80);
}

function tooLarge(bytes: number): ReturnType<typeof fail> {
  const limit = RETRIEVAL_LIMITS.maxUploadBytes;
  return fail("payload_too_large", `the upload is ${bytes} bytes; the limit is ${limit}`, { limitBytes: limit });
}

function textTooLong(chars: number): ReturnType<typeof fail> {
  const limit = RETRIEVAL_LIMITS.maxTextChars;
  return fail("payload_too_large", `the document's text is ${chars} characters; the limit is ${limit}`, {
    limitChars: limit,
  });
}
