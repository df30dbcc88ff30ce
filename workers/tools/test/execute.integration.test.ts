import { exports } from "cloudflare:workers";
import { TOOL_LIMITS } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { callOf, failure, httpTool, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;

describe("execute: refusals before a tool runs", () => {
  it("refuses input that breaks the tool's schema, naming the field", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool()));
    expect(failure(await tools.execute(tenant, callOf("echo", { city: 42 })))).toEqual({
      code: "validation_failed",
      message: "input.city: must be a string (got number)",
      details: { field: "city" },
    });
    expect(failure(await tools.execute(tenant, callOf("echo", {})))).toMatchObject({
      code: "validation_failed",
      message: "input.city: is required",
      details: { field: "city" },
    });
    expect(failure(await tools.execute(tenant, callOf("echo", { city: "Oslo", days: 0 })))).toMatchObject({
      message: "input.days: must be at least 1",
      details: { field: "days" },
    });
    expect(failure(await tools.execute(tenant, callOf("current_time", { timezone: 5 })))).toMatchObject({
      code: "validation_failed",
      details: { field: "timezone" },
    });
    expect(failure(await tools.execute(tenant, callOf("search_documents", { query: "x", topK: 999 })))).toMatchObject({
      code: "validation_failed",
      message: `input.topK: must be at most ${tenant.config.retrieval.maxTopK}`,
    });
    const statuses = unwrap(await tools.executions(tenant, { limit: 10 })).items.map((row) => row.status);
    expect(statuses).toEqual(["invalid", "invalid", "invalid", "invalid", "invalid"]);
  });

  it("refuses input that is not a JSON object or is too large", async () => {
    const tenant = toolsTenant();
    for (const inputJson of ["[1]", "3", "null", '"text"', "{not json", ""]) {
      const error = failure(await tools.execute(tenant, { name: "current_time", inputJson, caller: "api" }));
      expect(error.code, inputJson).toBe("bad_request");
      expect(error.message).toMatch(/^input /);
    }
    const huge = JSON.stringify({ timezone: "x".repeat(TOOL_LIMITS.maxInputBytes) });
    const error = failure(await tools.execute(tenant, { name: "current_time", inputJson: huge, caller: "api" }));
    expect(error).toMatchObject({
      code: "bad_request",
      message: expect.stringContaining(`${TOOL_LIMITS.maxInputBytes}`),
    });
    const deep = `${"[".repeat(200)}${"]".repeat(200)}`;
    expect(failure(await tools.execute(tenant, callOf("current_time", { timezone: JSON.parse(deep) }))).code).toBe(
      "bad_request",
    );
  });

  it("says not_found for a tool the tenant does not have, and audits the attempt", async () => {
    const tenant = toolsTenant();
    expect(failure(await tools.execute(tenant, callOf("nope")))).toMatchObject({
      code: "not_found",
      message: 'tool "nope" does not exist',
    });
    expect(failure(await tools.execute(tenant, { name: "bad name!", inputJson: "{}", caller: "api" })).code).toBe(
      "bad_request",
    );
    const rows = unwrap(await tools.executions(tenant, { limit: 10 })).items;
    expect(rows.map((row) => [row.tool, row.status])).toEqual([
      ["bad name!", "invalid"],
      ["nope", "invalid"],
    ]);
  });
});
