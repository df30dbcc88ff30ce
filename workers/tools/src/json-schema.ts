/**
 * Tools' input schemas, with @cfworker/json-schema (a validator that runs on Workers: no `eval`,
 * no code generation). `compileSchema` decides whether a tenant's `parameters` is a schema this
 * validator can run — local `$ref`s only (nothing is ever fetched), known `type` names, patterns
 * that compile — and `validateInput` turns the first violation into `input.<path>: <reason>`.
 *
 * Schemas are drafts 2020-12 unless `$schema` names draft 4, 7 or 2019-09.
 */
import { type Schema, type SchemaDraft, Validator, type OutputUnit } from "@cfworker/json-schema";
import { errorMessage } from "@crispy/worker-kit/util";

const TYPES = new Set(["array", "boolean", "integer", "null", "number", "object", "string"]);
/** Keywords whose values are data, not schemas (their objects may have any keys). */
const DATA_KEYWORDS = new Set(["const", "enum", "default", "examples"]);
const REF_KEYWORDS = new Set(["$ref", "$dynamicRef", "$recursiveRef"]);

export type Compiled = { ok: true; validator: Validator; schema: Schema } | { ok: false; reason: string };

/** A validator for `schema`, or why the validator cannot run it. `schema` is not modified. */
export function compileSchema(schema: unknown): Compiled {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    return { ok: false, reason: "must be a JSON Schema object" };
  }
  const problem = structureProblem(schema, "", 0);
  if (problem) return { ok: false, reason: problem };
  // The validator annotates the schema it is given; it gets its own copy.
  const copy = structuredClone(schema) as Schema;
  try {
    const validator = new Validator(copy, draftOf(copy), true);
    // Resolves the root's references now rather than at the first call.
    validator.validate({});
    return { ok: true, validator, schema: copy };
  } catch (error) {
    return { ok: false, reason: errorMessage(error).split("\n")[0]! };
  }
}

/** The first problem of `input` against a compiled schema: `{ field, message }`, or null when valid. */
export function validateInput(
  compiled: Extract<Compiled, { ok: true }>,
  input: unknown,
): { field: string; message: string } | null {
  let result: ReturnType<Validator["validate"]>;
  try {
    result = compiled.validator.validate(input);
  } catch (error) {
    return { field: "", message: `input: the tool's schema could not be applied (${errorMessage(error)})` };
  }
  if (result.valid) return null;
  const leaf = result.errors.at(-1)!;
  const { field, reason } = describe(leaf, result.errors, compiled.schema);
  return { field, message: `input${field === "" ? "" : `.${field}`}: ${reason}` };
}

function draftOf(schema: Schema): SchemaDraft {
  const uri = typeof schema.$schema === "string" ? schema.$schema : "";
  if (uri.includes("draft-04")) return "4";
  if (uri.includes("draft-07")) return "7";
  if (uri.includes("2019-09")) return "2019-09";
  return "2020-12";
}

/** Remote references, unknown types and bad patterns, found walking every schema position. */
function structureProblem(node: unknown, at: string, depth: number): string | null {
  if (depth > 32) return `${at || "the schema"} nests deeper than 32 levels`;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const problem = structureProblem(node[i], `${at}/${i}`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof node !== "object" || node === null) return null;
  for (const [key, value] of Object.entries(node)) {
    const where = `${at}/${key}`;
    if (DATA_KEYWORDS.has(key)) continue;
    if (REF_KEYWORDS.has(key) && typeof value === "string" && !value.startsWith("#")) {
      return `${where}: only local references ("#/…") are supported, not ${JSON.stringify(value.slice(0, 80))}`;
    }
    if (key === "type" && (typeof value === "string" || Array.isArray(value))) {
      const names = Array.isArray(value) ? value : [value];
      const unknown = names.find((name) => typeof name !== "string" || !TYPES.has(name));
      if (unknown !== undefined) return `${where}: ${JSON.stringify(unknown)} is not a JSON Schema type`;
    }
    if (key === "pattern" && typeof value === "string") {
      const problem = regexProblem(value);
      if (problem) return `${where}: ${problem}`;
    }
    if (key === "patternProperties" && typeof value === "object" && value !== null) {
      for (const pattern of Object.keys(value)) {
        const problem = regexProblem(pattern);
        if (problem) return `${where}: ${problem}`;
      }
    }
    const problem = structureProblem(value, where, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern, "u");
    return null;
  } catch (error) {
    return `invalid pattern (${errorMessage(error)})`;
  }
}

/** `#/a/0/b` → `a.0.b`. */
function pathOf(pointer: string): string[] {
  return pointer
    .replace(/^#\/?/, "")
    .split("/")
    .filter((part) => part !== "")
    .map((part) => {
      let decoded = part;
      try {
        decoded = decodeURIComponent(part);
      } catch {}
      return decoded.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

function schemaAt(schema: Schema, pointer: string): unknown {
  let node: unknown = schema;
  for (const part of pathOf(pointer)) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function describe(leaf: OutputUnit, all: OutputUnit[], schema: Schema): { field: string; reason: string } {
  const path = pathOf(leaf.instanceLocation);
  const value = schemaAt(schema, leaf.keywordLocation);
  const quoted = /"([^"]*)"/.exec(leaf.error)?.[1];
  switch (leaf.keyword) {
    case "required":
      return { field: [...path, quoted ?? ""].filter(Boolean).join("."), reason: "is required" };
    case "false": {
      // A property refused by `additionalProperties: false` (or a `false` subschema).
      const parent = all.at(-2);
      const extra = parent?.keyword === "additionalProperties" || parent?.keyword === "unevaluatedProperties";
      return { field: path.join("."), reason: extra ? "is not an allowed property" : "is not allowed" };
    }
    case "type": {
      const got = quoted ?? "another type";
      const wanted = Array.isArray(value) ? value.join(" or ") : String(value);
      return { field: path.join("."), reason: `must be ${article(wanted)} (got ${got})` };
    }
    case "minimum":
      return { field: path.join("."), reason: `must be at least ${String(value)}` };
    case "maximum":
      return { field: path.join("."), reason: `must be at most ${String(value)}` };
    case "exclusiveMinimum":
      return { field: path.join("."), reason: `must be greater than ${String(value)}` };
    case "exclusiveMaximum":
      return { field: path.join("."), reason: `must be less than ${String(value)}` };
    case "minLength":
      return { field: path.join("."), reason: `must be at least ${String(value)} characters` };
    case "maxLength":
      return { field: path.join("."), reason: `must be at most ${String(value)} characters` };
    case "minItems":
      return { field: path.join("."), reason: `must have at least ${String(value)} items` };
    case "maxItems":
      return { field: path.join("."), reason: `must have at most ${String(value)} items` };
    case "pattern":
      return { field: path.join("."), reason: `must match the pattern ${String(value)}` };
    case "enum":
      return {
        field: path.join("."),
        reason: `must be one of ${Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join(", ") : "the allowed values"}`,
      };
    case "const":
      return { field: path.join("."), reason: `must be ${JSON.stringify(value)}` };
    default:
      return { field: path.join("."), reason: leaf.error.replace(/\.$/, "") };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
