/**
 * JSON: every value as a `key.path: value` line, so a search for a field's content finds the line
 * that names it. Each top-level entry (key or array index) is a section headed by that key. Within
 * it, each nested object or array is a block (paragraph) of its own and the scalar fields around
 * them form one block, so records stay together when chunked. A top-level
 * string `title` (or else `name`) is the document's title.
 *
 * Bounds: nesting deeper than MAX_JSON_DEPTH is refused before anything is parsed (found by one
 * linear scan), the values are walked with an explicit stack (never recursion on the input's
 * depth), and writing stops once the text is over the limit, since key paths repeated on every
 * line can make the text much larger than the file.
 */
import { RETRIEVAL_LIMITS, fail, type RpcResult } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { TextBuilder, normalizeText, oneLine, type ParsedDocument } from "./document";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Container = Json[] | { [key: string]: Json };

/** Levels of nested objects and arrays a JSON file may have (the top-level value is level 1). */
export const MAX_JSON_DEPTH = RETRIEVAL_LIMITS.maxJsonDepth;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function parseJson(source: string): RpcResult<ParsedDocument> {
  const text = normalizeText(source);
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    return fail(
      "bad_request",
      `the JSON nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep; the limit is ${MAX_JSON_DEPTH} levels`,
      { maxDepth: MAX_JSON_DEPTH },
    );
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (error) {
    return fail("bad_request", `the file is not valid JSON: ${errorMessage(error)}`);
  }
  const builder = new TextBuilder();
  if (!isContainer(value)) {
    builder.block(scalar(value), []);
    return builder.build();
  }
  const top = cursor("", value);
  while (top.next < size(top)) {
    const [key, child] = advance(top);
    const path = join("", key);
    const heading = oneLine(typeof key === "number" ? `[${key}]` : key, 200);
    if (!isContainer(child)) {
      builder.block(`${path}: ${scalar(child)}`, [heading]);
    } else {
      const nested = cursor(path, child);
      if (size(nested) === 0) builder.block(`${path}: ${Array.isArray(child) ? "[]" : "{}"}`, [heading]);
      // Scalars stay together as one record; each nested container is a block of its own.
      let record: string[] = [];
      let recordChars = -1;
      while (nested.next < size(nested) && !builder.full) {
        const [inner, grandchild] = advance(nested);
        const childPath = join(path, inner);
        if (isContainer(grandchild)) {
          builder.block(record.join("\n"), [heading]);
          record = [];
          recordChars = -1;
          const written = lines(childPath, grandchild, builder.remaining);
          if (written === null) builder.overflow();
          else builder.block(written.join("\n"), [heading]);
        } else {
          const line = `${childPath}: ${scalar(grandchild)}`;
          recordChars += line.length + 1;
          // Counted ahead: a record over the limit on its own is not collected any further.
          if (recordChars > builder.remaining) builder.overflow();
          else record.push(line);
        }
      }
      builder.block(record.join("\n"), [heading]);
    }
    if (builder.full) return builder.build();
  }
  return builder.build(titleOf(value));
}

/**
 * The `path: value` lines of a container, depth first in document order, walked with an explicit
 * stack; null as soon as they add up to more than `maxChars`.
 */
function lines(path: string, value: Container, maxChars: number): string[] | null {
  const out: string[] = [];
  let chars = -1;
  const write = (line: string) => {
    chars += line.length + 1;
    out.push(line);
    return chars <= maxChars;
  };
  const stack: Cursor[] = [];
  const enter = (at: string, container: Container): boolean => {
    const frame = cursor(at, container);
    if (size(frame) === 0) return write(`${at}: ${Array.isArray(container) ? "[]" : "{}"}`);
    stack.push(frame);
    return true;
  };
  if (!enter(path, value)) return null;
  while (stack.length > 0) {
    const frame = stack.at(-1)!;
    if (frame.next === size(frame)) {
      stack.pop();
      continue;
    }
    const [key, child] = advance(frame);
    const at = join(frame.path, key);
    if (!(isContainer(child) ? enter(at, child) : write(`${at}: ${scalar(child)}`))) return null;
  }
  return out;
}

/** A position in an object or array: its entries are read one at a time, not copied into pairs. */
interface Cursor {
  path: string;
  container: Container;
  /** The object's keys; null for an array. */
  keys: string[] | null;
  next: number;
}

function cursor(path: string, container: Container): Cursor {
  return { path, container, keys: Array.isArray(container) ? null : Object.keys(container), next: 0 };
}

function size(at: Cursor): number {
  return at.keys ? at.keys.length : (at.container as Json[]).length;
}

function advance(at: Cursor): [string | number, Json] {
  const index = at.next++;
  if (at.keys === null) return [index, (at.container as Json[])[index]!];
  const key = at.keys[index]!;
  return [key, (at.container as { [key: string]: Json })[key]!];
}

/**
 * The deepest nesting of objects and arrays in JSON text, in one pass over it (strings skipped,
 * escapes honoured). Stops counting once past the limit. Invalid JSON gets some number; parsing
 * it then reports what is wrong.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 /* " */) {
      // Skip the string: to the next quote not escaped by a backslash.
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === 0x5c /* \ */) i++;
        else if (inner === 0x22) break;
      }
    } else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > MAX_JSON_DEPTH) return deepest;
      }
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) {
      depth--;
    }
  }
  return deepest;
}

function isContainer(value: Json): value is Container {
  return value !== null && typeof value === "object";
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function scalar(value: null | boolean | number | string): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function titleOf(value: Container): string | null {
  if (Array.isArray(value)) return null;
  const title = typeof value.title === "string" ? value.title : typeof value.name === "string" ? value.name : "";
  return oneLine(title) || null;
}
