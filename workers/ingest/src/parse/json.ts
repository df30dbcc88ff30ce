/**
 * JSON: every value as a `key.path: value` line, so a search for a field's content finds the line
 * that names it. Each top-level entry (key or array index) is a section headed by that key. Within
 * it, each nested object or array is a block (paragraph) of its own and the scalar fields around
 * them form one block, so records stay together when chunked. A top-level
 * string `title` (or else `name`) is the document's title.
 */
import { fail, ok, type RpcResult } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { TextBuilder, normalizeText, oneLine, type ParsedDocument } from "./document";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function parseJson(source: string): RpcResult<ParsedDocument> {
  let value: Json;
  try {
    value = JSON.parse(normalizeText(source)) as Json;
  } catch (error) {
    return fail("bad_request", `the file is not valid JSON: ${errorMessage(error)}`);
  }
  const builder = new TextBuilder();
  if (value === null || typeof value !== "object") {
    builder.block(scalar(value), []);
    return ok(builder.build());
  }
  for (const [key, child] of entries(value)) {
    const path = join("", key);
    const heading = typeof key === "number" ? `[${key}]` : key;
    if (child !== null && typeof child === "object") {
      const nested = entries(child);
      if (nested.length === 0) builder.block(`${path}: ${Array.isArray(child) ? "[]" : "{}"}`, [heading]);
      // Scalars stay together as one record; each nested container is a block of its own.
      let record: string[] = [];
      for (const [inner, grandchild] of nested) {
        const written = lines(join(path, inner), grandchild);
        if (grandchild !== null && typeof grandchild === "object") {
          builder.block(record.join("\n"), [heading]);
          builder.block(written.join("\n"), [heading]);
          record = [];
        } else {
          record.push(...written);
        }
      }
      builder.block(record.join("\n"), [heading]);
    } else {
      builder.block(`${path}: ${scalar(child)}`, [heading]);
    }
  }
  return ok(builder.build(titleOf(value)));
}

function lines(path: string, value: Json): string[] {
  if (value === null || typeof value !== "object") return [`${path}: ${scalar(value)}`];
  const nested = entries(value);
  if (nested.length === 0) return [`${path}: ${Array.isArray(value) ? "[]" : "{}"}`];
  return nested.flatMap(([key, child]) => lines(join(path, key), child));
}

function entries(value: Json[] | { [key: string]: Json }): Array<[string | number, Json]> {
  return Array.isArray(value) ? value.map((child, index) => [index, child]) : Object.entries(value);
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function scalar(value: null | boolean | number | string): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function titleOf(value: Json[] | { [key: string]: Json }): string | null {
  if (Array.isArray(value)) return null;
  const title = typeof value.title === "string" ? value.title : typeof value.name === "string" ? value.name : "";
  return oneLine(title) || null;
}
