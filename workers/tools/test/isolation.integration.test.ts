/**
 * Hostile tenant B against tenant A's tools, secrets, files and audit: everything B tries names
 * A's things, and B gets "not_found", an empty list, or its own things — never A's.
 */
import { exports } from "cloudflare:workers";
import { encodeCursor } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { callOf, failure, httpTool, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;
const SECRET = "tenant-a-only-secret-77";

describe("tenant isolation", () => {
  it("never lets tenant B see, run, change or audit tenant A's HTTP tool", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    unwrap(await tools.create(a, httpTool({ name: "payroll", auth: { type: "bearer", secret: SECRET } })));
    unwrap(await tools.execute(a, callOf("payroll", { city: "Oslo" })));
    unwrap(await tools.execute(a, callOf("payroll", { city: "Rome" })));

    expect(unwrap(await tools.list(b)).map((tool) => tool.name)).not.toContain("payroll");
    expect(failure(await tools.get(b, "payroll")).code).toBe("not_found");
    expect(failure(await tools.execute(b, callOf("payroll", { city: "Oslo" }))).code).toBe("not_found");
    expect(failure(await tools.remove(b, "payroll")).code).toBe("not_found");

    // B's audit holds only B's own (refused) attempt, whatever B filters or pages with.
    const audit = unwrap(await tools.executions(b, { limit: 100 }));
    expect(audit.items.map((row) => [row.tool, row.status])).toEqual([["payroll", "invalid"]]);
    expect(unwrap(await tools.executions(b, { limit: 100, tool: "payroll" })).items).toHaveLength(1);
    const forged = encodeCursor("executions", 999_999_999_999_999);
    expect(unwrap(await tools.executions(b, { limit: 100, cursor: forged })).items).toHaveLength(1);
    const aCursor = unwrap(await tools.executions(a, { limit: 1 })).nextCursor!;
    const viaA = unwrap(await tools.executions(b, { limit: 100, cursor: aCursor })).items;
    expect(viaA.every((row) => row.status === "invalid")).toBe(true);

    // B defining its own "payroll" leaves A's as it was, secret included.
    unwrap(await tools.create(b, httpTool({ name: "payroll", description: "B's payroll" })));
    const theirs = JSON.parse(unwrap(await tools.execute(b, callOf("payroll", { city: "x" }))).output);
    expect(theirs.authorization).toBeNull();
    const ours = JSON.parse(unwrap(await tools.execute(a, callOf("payroll", { city: "x" }))).output);
    expect(ours.authorization).toBe(`Bearer ${SECRET}`);
    expect(unwrap(await tools.get(a, "payroll")).description).toBe("Echoes what it receives");
    unwrap(await tools.remove(b, "payroll"));
    expect(unwrap(await tools.get(a, "payroll")).name).toBe("payroll");
    expect(unwrap(await tools.executions(a, { limit: 100 })).items).toHaveLength(3);
  });

  it("keeps each tenant's files to itself", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    unwrap(await tools.execute(a, callOf("file_write", { path: "secret.txt", content: "A's secret" })));
    const read = unwrap(await tools.execute(b, callOf("file_read", { path: "secret.txt" })));
    expect(read.status).toBe("error");
    expect(read.output).not.toContain("A's secret");
    expect(JSON.parse(unwrap(await tools.execute(b, callOf("file_list"))).output).files).toEqual([]);
    expect(
      failure(await tools.execute(b, callOf("file_read", { path: `../${a.tenantId}/files/secret.txt` }))).code,
    ).toBe("validation_failed");
  });
});
