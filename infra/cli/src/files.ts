/**
 * The files `crispy ingest` uploads: named files as they are, folders walked (dotfiles, dot
 * folders and node_modules skipped; only the formats the gateway parses), each with a stable
 * document id made from its path, so ingesting the same folder again updates its documents
 * (unchanged content is reported `unchanged`) instead of adding copies.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { CliError, EXIT } from "./errors";

/** What workers/ingest/src/parse/index.ts parses, by extension, and the type sent for each. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".txt": "text/plain",
  ".text": "text/plain",
  ".md": "text/markdown",
  ".markdown": "text/markdown",
  ".html": "text/html",
  ".htm": "text/html",
  ".xhtml": "application/xhtml+xml",
  ".json": "application/json",
  ".csv": "text/csv",
  ".tsv": "text/tab-separated-values",
  ".pdf": "application/pdf",
};

const SKIPPED_DIRS = new Set(["node_modules"]);
const MAX_ID_CHARS = 96;

export interface FileToIngest {
  /** Absolute path. */
  path: string;
  /** The path shown and sent as `source`: the folder's name and the path inside it, or the file's name. */
  display: string;
  documentId: string;
  contentType: string;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

/** A document id (1-96 characters of `A-Z a-z 0-9 . _ : -`) for a display path: its segments joined by `:`. */
export function documentIdFor(display: string, prefix = ""): string {
  const segments = display
    .split(/[\\/]+/)
    .filter(Boolean)
    .map((segment) => segment.replace(/[^A-Za-z0-9._-]+/g, "-"));
  const id = `${prefix}${segments.join(":")}`;
  if (id.length <= MAX_ID_CHARS && id !== "." && id !== "..") return id || "document";
  const digest = createHash("sha256").update(display).digest("hex").slice(0, 8);
  return `${id.slice(0, MAX_ID_CHARS - 9)}-${digest}`;
}

export function contentTypeOf(path: string): string | null {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? null;
}

function walk(dir: string, display: string, found: FileToIngest[], skipped: SkippedFile[], prefix: string): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const shown = `${display}/${entry.name}`;
    if (entry.name.startsWith(".") || (entry.isDirectory() && SKIPPED_DIRS.has(entry.name))) continue;
    if (entry.isDirectory()) walk(path, shown, found, skipped, prefix);
    else if (entry.isFile()) {
      const contentType = contentTypeOf(entry.name);
      if (contentType) found.push({ path, display: shown, documentId: documentIdFor(shown, prefix), contentType });
      else skipped.push({ path, reason: `unsupported type ${extname(entry.name) || "(no extension)"}` });
    }
  }
}

/**
 * Every file to upload for the command line's paths, resolved against `base`. A path that does not
 * exist is a usage error before anything is uploaded. A file named explicitly is sent whatever
 * its extension (the gateway decides); a folder only contributes the formats it parses.
 */
export function collectFiles(
  inputs: string[],
  base: string,
  prefix = "",
): { files: FileToIngest[]; skipped: SkippedFile[] } {
  const files: FileToIngest[] = [];
  const skipped: SkippedFile[] = [];
  for (const input of inputs) {
    const path = resolve(base, input);
    if (!existsSync(path))
      throw new CliError(`${input}: no such file or folder`, { exitCode: EXIT.usage, code: "not_found" });
    const name = basename(path);
    if (statSync(path).isDirectory()) walk(path, name, files, skipped, prefix);
    else
      files.push({
        path,
        display: name,
        documentId: documentIdFor(name, prefix),
        contentType: contentTypeOf(name) ?? "application/octet-stream",
      });
  }
  // A file named twice is sent once; two paths that slug to one id ("a b.md", "a-b.md") get told apart.
  const seen = new Set<string>();
  const ids = new Set<string>();
  const unique: FileToIngest[] = [];
  for (const file of files) {
    if (seen.has(file.path)) continue;
    seen.add(file.path);
    if (ids.has(file.documentId)) {
      const digest = createHash("sha256").update(file.display).digest("hex").slice(0, 8);
      file.documentId = `${file.documentId.slice(0, MAX_ID_CHARS - 9)}-${digest}`;
    }
    ids.add(file.documentId);
    unique.push(file);
  }
  return { files: unique, skipped };
}
