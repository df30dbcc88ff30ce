/**
 * The raw files in R2 (binding DOCUMENTS): what was uploaded, kept per document version at
 * `${tenantId}/documents/${docId}/v${version}/${fileName}` with custom metadata naming the tenant,
 * document, version and content hash. Text ingests are stored as `source.txt`.
 *
 * Invariants:
 * - Every key starts with the tenant id; a document's files are exactly the keys under
 *   `documentPrefix(tenantId, docId)` (doc ids contain no "/", so no other document shares it).
 * - A version number is claimed by creating its file with a create-only put; if a concurrent
 *   ingest of the same document stored another file name under the same version, only a strictly
 *   earlier upload keeps it (on a tie both move on). So no file overwrites another and each
 *   version directory ends with one file.
 * - After a version is indexed, older versions' files are deleted; newer ones (a later ingest still
 *   running) are left alone. A version that failed deletes its own file.
 */
import type { DocumentKind } from "./parse";

const EXTENSIONS: Readonly<Record<DocumentKind, string>> = {
  text: "txt",
  markdown: "md",
  html: "html",
  json: "json",
  csv: "csv",
  tsv: "tsv",
  pdf: "pdf",
};

/** How many taken versions to step over before giving up on claiming one. */
const MAX_CLAIMS = 8;

export interface RawFile {
  key: string;
  version: number;
}

export interface NewRawFile {
  tenantId: string;
  docId: string;
  fileName: string;
  contentType: string;
  contentHash: string;
  jobId: string;
  bytes: Uint8Array;
}

export function documentPrefix(tenantId: string, docId: string): string {
  return `${tenantId}/documents/${docId}/`;
}

export function rawFileKey(tenantId: string, docId: string, version: number, fileName: string): string {
  return `${documentPrefix(tenantId, docId)}v${version}/${fileName}`;
}

/** A file name safe in a key: letters, digits, `.`, `_`, `-`; at most 100 characters; the kind's extension. */
export function safeFileName(name: string | undefined, kind: DocumentKind): string {
  const extension = EXTENSIONS[kind];
  const base = (name ?? "")
    .split(/[\\/]/)
    .at(-1)!
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._]+/, "")
    .replace(/\.[A-Za-z0-9]{1,8}$/, "")
    .slice(0, 90);
  return `${base || "source"}.${extension}`;
}

/** Every stored version of a document, oldest first. */
export async function listRawFiles(bucket: R2Bucket, tenantId: string, docId: string): Promise<RawFile[]> {
  const prefix = documentPrefix(tenantId, docId);
  const files: RawFile[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) {
      const version = /^v(\d+)\//.exec(object.key.slice(prefix.length))?.[1];
      if (version) files.push({ key: object.key, version: Number(version) });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return files.sort((a, b) => a.version - b.version);
}

/**
 * Stores the file as the first free version above both `indexedVersion` (what rag holds) and
 * every version already in R2, claiming it with a create-only put; null when concurrent ingests
 * of the document took MAX_CLAIMS versions in a row.
 */
export async function storeNewVersion(
  bucket: R2Bucket,
  file: NewRawFile,
  indexedVersion: number,
): Promise<RawFile | null> {
  const stored = await listRawFiles(bucket, file.tenantId, file.docId);
  let version = Math.max(indexedVersion, stored.at(-1)?.version ?? 0) + 1;
  for (let claim = 0; claim < MAX_CLAIMS; claim++, version++) {
    const key = rawFileKey(file.tenantId, file.docId, version, file.fileName);
    const written = await bucket.put(key, file.bytes, {
      onlyIf: { etagDoesNotMatch: "*" },
      httpMetadata: { contentType: file.contentType },
      customMetadata: {
        tenantId: file.tenantId,
        docId: file.docId,
        version: String(version),
        contentHash: file.contentHash,
        jobId: file.jobId,
      },
    });
    // Taken by a concurrent ingest of the same document under the same file name: try the next.
    if (!written) continue;
    // Under another file name both puts succeed: only the earlier upload keeps the version.
    if (await isFirstIn(bucket, key, written)) return { key, version };
    await bucket.delete(key);
  }
  return null;
}

/** Whether every other file in the version's directory was uploaded after this one (a tie loses). */
async function isFirstIn(bucket: R2Bucket, key: string, mine: R2Object): Promise<boolean> {
  const directory = key.slice(0, key.lastIndexOf("/") + 1);
  const { objects } = await bucket.list({ prefix: directory });
  return objects.every((other) => other.key === key || other.uploaded.getTime() > mine.uploaded.getTime());
}

/** Deletes the given keys, in batches of the 1000 R2 takes at once. */
export async function deleteRawFiles(bucket: R2Bucket, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}
