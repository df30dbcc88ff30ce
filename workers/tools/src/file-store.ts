/**
 * One tenant's files for the file_* built-ins, in R2 (TOOL_FILES) under
 * `tenants/<tenantId>/files/<path>`. Every key is built here from the store's tenant id and a path
 * that `pathProblem` accepted (relative, no `.`/`..`/empty segments, no backslash or control
 * characters, at most TOOL_LIMITS.maxPathChars), so no path can leave the tenant's prefix.
 *
 * Limits: a file's size (tools.fileMaxBytes) and the tenant's file count (tools.maxFiles), the
 * count checked by listing before a new path is written — so concurrent writes of new files may
 * pass it by a few (a soft limit); overwriting an existing file never counts.
 */
import { TOOL_LIMITS } from "@crispy/contracts";

/** Objects one R2 list call returns at most. */
const LIST_PAGE = 1_000;

/** What is wrong with `path` as a file path (or, with `prefix`, a listing prefix), or null. */
export function pathProblem(path: string, options: { prefix?: boolean } = {}): string | null {
  if (options.prefix && path === "") return null;
  if (path === "") return "must not be empty";
  if (path.length > TOOL_LIMITS.maxPathChars) return `must be at most ${TOOL_LIMITS.maxPathChars} characters`;
  if (path.startsWith("/")) return "must be relative (no leading /)";
  if (hasControlCharacter(path)) return "must not contain control characters";
  if (path.includes("\\")) return "must use / between folders, not \\";
  const segments = path.split("/");
  // A prefix may end with "/" (a folder); a file path may not.
  if (options.prefix && segments.at(-1) === "") segments.pop();
  for (const segment of segments) {
    if (segment === "") return "must not contain empty segments (//) or end with /";
    if (segment === "." || segment === "..") return "must not contain . or .. segments";
  }
  return null;
}

/** Whether `text` has a C0 control character or DEL (never part of a file name here). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

export interface StoredFile {
  path: string;
  bytes: number;
  updatedAt: string;
}

export type WriteOutcome =
  | { ok: true; file: StoredFile; created: boolean }
  | { ok: false; reason: "too_large" | "too_many"; limit: number; bytes: number };

export class TenantFiles {
  readonly #bucket: R2Bucket;
  readonly #root: string;

  constructor(bucket: R2Bucket, tenantId: string) {
    this.#bucket = bucket;
    this.#root = `tenants/${tenantId}/files/`;
  }

  /** The file's text and size, or null when the tenant has no such file. */
  async read(path: string): Promise<{ file: StoredFile; text: string } | null> {
    const object = await this.#bucket.get(this.#root + path);
    if (!object) return null;
    return { file: this.#fileOf(object), text: await object.text() };
  }

  async write(path: string, content: string, limits: { maxBytes: number; maxFiles: number }): Promise<WriteOutcome> {
    const bytes = new TextEncoder().encode(content);
    if (bytes.byteLength > limits.maxBytes) {
      return { ok: false, reason: "too_large", limit: limits.maxBytes, bytes: bytes.byteLength };
    }
    const key = this.#root + path;
    const exists = (await this.#bucket.head(key)) !== null;
    if (!exists && (await this.#countUpTo(limits.maxFiles)) >= limits.maxFiles) {
      return { ok: false, reason: "too_many", limit: limits.maxFiles, bytes: bytes.byteLength };
    }
    const object = await this.#bucket.put(key, bytes, {
      httpMetadata: { contentType: "text/plain; charset=utf-8" },
    });
    return { ok: true, file: this.#fileOf(object), created: !exists };
  }

  /** Up to `max` files whose path starts with `prefix`, by path, and whether there are more. */
  async list(prefix: string, max: number): Promise<{ files: StoredFile[]; truncated: boolean }> {
    const listed = await this.#bucket.list({ prefix: this.#root + prefix, limit: Math.min(max, LIST_PAGE) });
    return { files: listed.objects.map((object) => this.#fileOf(object)), truncated: listed.truncated };
  }

  /** How many files the tenant has, counting no further than `max`. */
  async #countUpTo(max: number): Promise<number> {
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await this.#bucket.list({
        prefix: this.#root,
        limit: Math.min(LIST_PAGE, max - count),
        ...(cursor ? { cursor } : {}),
      });
      count += page.objects.length;
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor && count < max);
    return count;
  }

  #fileOf(object: R2Object): StoredFile {
    return { path: object.key.slice(this.#root.length), bytes: object.size, updatedAt: object.uploaded.toISOString() };
  }
}
