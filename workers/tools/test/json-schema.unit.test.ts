import { describe, expect, it } from "vitest";
import { compileSchema, validateInput } from "../src/json-schema";

const SCHEMA = {
  type: "object",
  properties: {
    city: { type: "string", minLength: 2 },
    days: { type: "integer", minimum: 1, maximum: 7 },
    units: { enum: ["metric", "imperial"] },
    tags: { type: "array", items: { type: "string" } },
    where: { type: "object", properties: { lat: { type: "number" } }, required: ["lat"] },
  },
  required: ["city"],
  additionalProperties: false,
};

function problem(input: unknown) {
  const compiled = compileSchema(SCHEMA);
  if (!compiled.ok) throw new Error(compiled.reason);
  return validateInput(compiled, input);
}

describe("tool input schemas", () => {
  it("accepts valid input and names the field of the first violation", () => {
    expect(problem({ city: "Oslo", days: 3, units: "metric", tags: ["a"], where: { lat: 1.5 } })).toBeNull();
    expect(problem({})).toEqual({ field: "city", message: "input.city: is required" });
    expect(problem({ city: 42 })).toEqual({ field: "city", message: "input.city: must be a string (got number)" });
    expect(problem({ city: "O" })?.message).toBe("input.city: must be at least 2 characters");
    expect(problem({ city: "Oslo", days: 9 })?.message).toBe("input.days: must be at most 7");
    expect(problem({ city: "Oslo", days: 1.5 })?.message).toBe("input.days: must be an integer (got number)");
    expect(problem({ city: "Oslo", units: "kelvin" })?.message).toBe(
      'input.units: must be one of "metric", "imperial"',
    );
    expect(problem({ city: "Oslo", tags: ["a", 2] })).toMatchObject({ field: "tags.1" });
    expect(problem({ city: "Oslo", where: {} })).toEqual({
      field: "where.lat",
      message: "input.where.lat: is required",
    });
    expect(problem({ city: "Oslo", extra: true })).toEqual({
      field: "extra",
      message: "input.extra: is not an allowed property",
    });
  });

  it("refuses schemas the validator cannot run", () => {
    expect(compileSchema({ type: "object", properties: { a: { $ref: "https://evil.example/s.json" } } })).toMatchObject(
      {
        ok: false,
        reason: expect.stringContaining("only local references"),
      },
    );
    expect(compileSchema({ type: "object", properties: { a: { type: "strnig" } } })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"strnig" is not a JSON Schema type'),
    });
    expect(compileSchema({ type: "object", properties: { a: { type: "string", pattern: "(" } } })).toMatchObject({
      ok: false,
      reason: expect.stringContaining("invalid pattern"),
    });
    expect(compileSchema({ type: "object", $ref: "#/$defs/missing" })).toMatchObject({ ok: false });
    expect(compileSchema([])).toMatchObject({ ok: false });
    // Data keywords may hold objects with any keys; local references resolve.
    expect(
      compileSchema({
        type: "object",
        $defs: { name: { type: "string" } },
        properties: { a: { $ref: "#/$defs/name" }, b: { const: { type: "not-a-type" } } },
      }).ok,
    ).toBe(true);
  });

  it("never modifies the schema it was given", () => {
    const schema = structuredClone(SCHEMA);
    compileSchema(schema);
    expect(schema).toEqual(SCHEMA);
  });
});
