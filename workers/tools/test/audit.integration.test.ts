import { exports } from "cloudflare:workers";
import { encodeCursor, type ToolExecutionRecord } from "@crispy/contracts";
import { sha256Hex } from "@crispy/worker-kit/util";
import { describe, expect, it } from "vitest";
import { asKey, callOf, failure, httpTool, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;

async function allPages(
  tenant: Parameters<typeof tools.executions>[0],
  limit: number,
  tool?: string,
): Promise<{ pages: number; items: ToolExecutionRecord[] }> {
  const items: ToolExecutionRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = unwrap(
      await tools.executions(tenant, { limit, ...(cursor ? { cursor } : {}), ...(tool ? { tool } : {}) }),
    );
    items.push(...page.items);
    pages++;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { pages, items };
}

describe("the execution audit", () => {
  it("records every call, refused ones included, newest first, paged by cursor", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool()));
    const ids: string[] = [];
    const calls = [
      callOf("current_time", { timezone: "UTC" }, { sessionId: "sess-1", callId: "call-1" }),
      callOf("echo", { city: "Oslo" }),
      callOf("echo", { city: 1 }),
      callOf("missing"),
      callOf("file_read", { path: "nope.txt" }),
      callOf("current_time"),
      callOf("echo", { city: "Rome" }),
    ];
    for (const call of calls) {
      const result = await tools.execute(tenant, call);
      if (result.ok) ids.push(result.value.executionId);
    }
    const { pages, items } = await allPages(tenant, 3);
    expect(pages).toBe(3);
    expect(items.map((row) => row.tool)).toEqual(calls.map((call) => call.name).reverse());
    expect(items.map((row) => row.status)).toEqual(["ok", "ok", "error", "invalid", "invalid", "ok", "ok"]);
    expect(new Set(items.map((row) => row.id)).size).toBe(7);
    // Execution ids sort by time, as the audit does.
    expect(items.map((row) => row.id)).toEqual([...items.map((row) => row.id)].sort().reverse());
    expect(items.filter((row) => row.status !== "invalid").map((row) => row.id)).toEqual([...ids].reverse());

    const first = items.at(-1)!;
    expect(first).toMatchObject({
      tool: "current_time",
      keyId: "key-1",
      sessionId: "sess-1",
      caller: "api",
      status: "ok",
      error: null,
      inputDigest: await sha256Hex(calls[0]!.inputJson),
    });
    expect(first.outputBytes).toBeGreaterThan(0);
    expect(first.durationMs).toBeGreaterThanOrEqual(0);
    expect(items.find((row) => row.status === "error")!.error).toContain("does not exist");
    expect(items.find((row) => row.tool === "missing")!.error).toContain("does not exist");

    const echo = await allPages(tenant, 2, "echo");
    expect(echo.items.map((row) => row.status)).toEqual(["ok", "invalid", "ok"]);
  });

  it("records refusals of a tenant with tools off and of a key outside its allow-list as denied", async () => {
    const tenant = toolsTenant();
    const off = { ...tenant, config: { ...tenant.config, features: { ...tenant.config.features, tools: false } } };
    expect(failure(await tools.execute(off, callOf("current_time"))).code).toBe("forbidden");
    const narrow = asKey(tenant, ["tools"], ["current_time"]);
    expect(failure(await tools.execute(narrow, callOf("file_list"))).code).toBe("forbidden");
    const rows = unwrap(await tools.executions(tenant, { limit: 10 })).items;
    expect(rows.map((row) => [row.tool, row.status])).toEqual([
      ["file_list", "denied"],
      ["current_time", "denied"],
    ]);
    // The narrow key sees only the rows of the tools it may call, and may not ask for others.
    expect(unwrap(await tools.executions(narrow, { limit: 10 })).items.map((row) => row.tool)).toEqual([
      "current_time",
    ]);
    expect(failure(await tools.executions(narrow, { limit: 10, tool: "file_list" })).code).toBe("forbidden");
  });

  it("refuses a cursor it did not issue", async () => {
    const tenant = toolsTenant();
    for (const cursor of ["not-a-cursor", encodeCursor("history", 5), encodeCursor("sessions", 1)]) {
      expect(failure(await tools.executions(tenant, { limit: 10, cursor }))).toMatchObject({
        code: "bad_request",
        details: { field: "cursor" },
      });
    }
  });
});
