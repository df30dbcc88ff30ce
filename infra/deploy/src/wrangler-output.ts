/**
 * Parsers of wrangler 4's list output (the commands deploy.ts runs with the output captured):
 *
 *   wrangler d1 list --json                          [{ "uuid", "name", … }]
 *   wrangler kv namespace list                       [{ "id", "title", … }]
 *   wrangler r2 bucket list                          "name:  <bucket>\ncreation_date:  …" blocks (text only)
 *   wrangler vectorize list --json                   [{ "name", "config": { "dimensions", "metric" }, … }]
 *   wrangler vectorize list-metadata-index X --json  [{ "propertyName", "indexType" }]
 *   wrangler secret list --format json               [{ "name", "type" }]
 *
 * JSON is taken from the first `[` on, so a stray banner or notice line before it does no harm.
 */
import { stripVTControlCharacters } from "node:util";
import type { MetadataIndex } from "./resources";

function jsonArray(stdout: string, command: string): Array<Record<string, unknown>> {
  const text = stripVTControlCharacters(stdout);
  // The list starts on a line of its own; "[ERROR]" inside a message is not one.
  const start = /^\s*\[\s*($|\{|\])/m.exec(text)?.index;
  const refused = () => new Error(`wrangler ${command}: expected a JSON list, got: ${text.trim().slice(0, 300)}`);
  if (start === undefined) {
    // `wrangler vectorize list --json` on an account without indexes may print only a notice.
    if (/haven't created any/i.test(text)) return [];
    throw refused();
  }
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start));
  } catch {
    throw refused();
  }
  if (!Array.isArray(value)) throw refused();
  return value as Array<Record<string, unknown>>;
}

export function parseD1List(stdout: string): Array<{ name: string; uuid: string }> {
  return jsonArray(stdout, "d1 list --json").map((db) => ({ name: String(db.name), uuid: String(db.uuid) }));
}

export function parseKvList(stdout: string): Array<{ title: string; id: string }> {
  return jsonArray(stdout, "kv namespace list").map((ns) => ({ title: String(ns.title), id: String(ns.id) }));
}

export function parseR2List(stdout: string): string[] {
  return stripVTControlCharacters(stdout)
    .split("\n")
    .map((line) => /^name:\s+(\S+)\s*$/.exec(line.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

export function parseVectorizeList(stdout: string): Array<{ name: string; dimensions: number; metric: string }> {
  return jsonArray(stdout, "vectorize list --json").map((index) => {
    const config = (index.config ?? {}) as { dimensions?: unknown; metric?: unknown };
    return { name: String(index.name), dimensions: Number(config.dimensions), metric: String(config.metric) };
  });
}

export function parseMetadataIndexes(stdout: string): MetadataIndex[] {
  return jsonArray(stdout, "vectorize list-metadata-index --json").map((index) => ({
    propertyName: String(index.propertyName),
    type: String(index.indexType) as MetadataIndex["type"],
  }));
}

export function parseSecretList(stdout: string): string[] {
  return jsonArray(stdout, "secret list").map((secret) => String(secret.name));
}
