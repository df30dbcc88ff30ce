/**
 * The local model's JSON answers, for `response_format`: `json_object` wraps the answer as
 * `{"answer": "…"}`; `json_schema` builds a deterministic instance of the schema with the answer
 * text in the first string it generates (depth-first, in property order) and "" in every other.
 *
 * Supported keywords (anything else is `AiError("unsupported", "response_format: …")`, before any
 * token): `type` (one, or a list: the first that is not "null"), `properties` (every declared
 * property is generated), `required`, `additionalProperties`, `items` (a single schema; an array
 * gets `minItems` items, default 0), `minItems`, `maxItems`, `enum` (its first value), `const`,
 * `minimum` / `maximum` (numbers start at 0 and are clamped; integers rounded up), `minLength` /
 * `maxLength` (strings padded with "-" or cut), and annotations (`title`, `description`,
 * `default`, `examples`, `$schema`, `$id`, `$comment`, `$defs`, `definitions`, `nullable`, …).
 */
import { AiError, type ResponseFormat } from "../types";

const MAX_DEPTH = 32;

const ANNOTATIONS = new Set([
  "title",
  "description",
  "default",
  "examples",
  "$schema",
  "$id",
  "$comment",
  "$defs",
  "definitions",
  "nullable",
  "deprecated",
  "readOnly",
  "writeOnly",
  "additionalProperties",
  "required",
]);
const STRUCTURAL = new Set([
  "type",
  "properties",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "const",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
]);

/** The answer text in the requested format (`text`, or none, leaves it as it is). */
export function formatAnswer(answer: string, format: ResponseFormat | undefined, model: string): string {
  if (format?.type === "json_object") return JSON.stringify({ answer });
  if (format?.type === "json_schema") return JSON.stringify(schemaInstance(format.schema, answer, model));
  return answer;
}

/** Throws `unsupported` now, before any token, when the schema uses a keyword the builder lacks. */
export function checkResponseFormat(format: ResponseFormat | undefined, model: string): void {
  if (format?.type === "json_schema") schemaInstance(format.schema, "", model);
}

/** A deterministic instance of `schema` whose first generated string is `answer`. */
export function schemaInstance(schema: Record<string, unknown>, answer: string, model: string): unknown {
  const state = { answer, used: false };
  return build(schema, "", 0);

  function unsupported(what: string, path: string): AiError {
    return new AiError(
      "unsupported",
      `response_format: json_schema ${what}${path ? ` (at ${path})` : ""} is not supported by ${model}`,
    );
  }

  function build(node: unknown, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) throw unsupported(`nesting deeper than ${MAX_DEPTH}`, path);
    if (typeof node !== "object" || node === null || Array.isArray(node)) {
      throw unsupported("a schema that is not an object", path);
    }
    const schema = node as Record<string, unknown>;
    for (const keyword of Object.keys(schema)) {
      if (!ANNOTATIONS.has(keyword) && !STRUCTURAL.has(keyword)) throw unsupported(`keyword "${keyword}"`, path);
    }
    if ("const" in schema) return schema.const;
    if (Array.isArray(schema.enum)) {
      if (schema.enum.length === 0) throw unsupported("an empty enum", path);
      return schema.enum[0];
    }
    switch (typeOf(schema, path)) {
      case "object":
        return buildObject(schema, path, depth);
      case "array":
        return buildArray(schema, path, depth);
      case "string":
        return buildString(schema);
      case "integer":
        return Math.ceil(clamp(schema));
      case "number":
        return clamp(schema);
      case "boolean":
        return false;
      default:
        return null;
    }
  }

  function typeOf(schema: Record<string, unknown>, path: string): string {
    const declared = Array.isArray(schema.type) ? (schema.type.find((type) => type !== "null") ?? "null") : schema.type;
    if (declared === undefined) {
      if (schema.properties !== undefined) return "object";
      if (schema.items !== undefined) return "array";
      throw unsupported("a schema without a type", path);
    }
    if (!["object", "array", "string", "integer", "number", "boolean", "null"].includes(String(declared))) {
      throw unsupported(`type ${JSON.stringify(declared)}`, path);
    }
    return String(declared);
  }

  function buildObject(schema: Record<string, unknown>, path: string, depth: number): Record<string, unknown> {
    const properties = schema.properties ?? {};
    if (typeof properties !== "object" || properties === null || Array.isArray(properties)) {
      throw unsupported("properties that are not an object", path);
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(properties)) {
      out[key] = build(child, `${path}/properties/${key}`, depth + 1);
    }
    for (const key of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof key === "string" && !(key in out)) out[key] = null;
    }
    return out;
  }

  function buildArray(schema: Record<string, unknown>, path: string, depth: number): unknown[] {
    const count = typeof schema.minItems === "number" ? Math.max(0, Math.ceil(schema.minItems)) : 0;
    if (schema.items === undefined) return Array.from({ length: count }, () => null);
    if (count === 0) {
      // Nothing to generate, but an unsupported item schema is still refused.
      const saved = state.used;
      state.used = true;
      build(schema.items, `${path}/items`, depth + 1);
      state.used = saved;
      return [];
    }
    return Array.from({ length: count }, (_, i) => build(schema.items, `${path}/items/${i}`, depth + 1));
  }

  function buildString(schema: Record<string, unknown>): string {
    let text = state.used ? "" : state.answer;
    state.used = true;
    const chars = Array.from(text);
    if (typeof schema.maxLength === "number" && chars.length > schema.maxLength) {
      text = chars.slice(0, Math.max(0, Math.floor(schema.maxLength))).join("");
    }
    if (typeof schema.minLength === "number" && Array.from(text).length < schema.minLength) {
      text += "-".repeat(Math.ceil(schema.minLength) - Array.from(text).length);
    }
    return text;
  }

  function clamp(schema: Record<string, unknown>): number {
    let value = 0;
    if (typeof schema.minimum === "number" && value < schema.minimum) value = schema.minimum;
    if (typeof schema.maximum === "number" && value > schema.maximum) value = schema.maximum;
    return value;
  }
}
