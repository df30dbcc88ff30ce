import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { ConfigError, envEnum, envInt, envOptionalString, parseEnv } from "../src/config";

const Schema = z.object({
  LIMIT: envInt({ min: 1 }),
  DELAY: envInt({ fallback: 15 }),
  MODE: envEnum(["local", "remote"], "local"),
  URL: envOptionalString(),
});

describe("parseEnv", () => {
  it("parses whole numbers, applies fallbacks, and trims", () => {
    expect(parseEnv("demo", Schema, { LIMIT: " 1048576 ", MODE: "remote", URL: "" })).toEqual({
      LIMIT: 1_048_576,
      DELAY: 15,
      MODE: "remote",
      URL: undefined,
    });
  });

  it("refuses a value that is not a whole number, naming the worker, the variable and the value", () => {
    for (const bad of ["abc", "1.5", "-3", "1e3", "0x10"]) {
      expect(() => parseEnv("demo", Schema, { LIMIT: bad })).toThrow(ConfigError);
      expect(() => parseEnv("demo", Schema, { LIMIT: bad })).toThrow(
        `crispy-demo configuration: LIMIT must be a whole number (got ${JSON.stringify(bad)})`,
      );
    }
  });

  it("names the variables at fault apart from the message", () => {
    try {
      parseEnv("demo", Schema, { LIMIT: "x", MODE: "cloud" });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).variables).toEqual(["LIMIT", "MODE"]);
    }
  });

  it("refuses missing required values and values out of range", () => {
    expect(() => parseEnv("demo", Schema, {})).toThrow("LIMIT is required");
    expect(() => parseEnv("demo", Schema, { LIMIT: "0" })).toThrow('LIMIT must be at least 1 (got "0")');
    expect(() => parseEnv("demo", Schema, { LIMIT: "2", MODE: "cloud" })).toThrow(
      'MODE must be one of "local", "remote"',
    );
  });

  it("parses each env object once", () => {
    const env = { LIMIT: "5" };
    const first = parseEnv("demo", Schema, env);
    expect(parseEnv("demo", Schema, env)).toBe(first);
    expect(parseEnv("demo", Schema, { LIMIT: "6" }).LIMIT).toBe(6);
  });
});
