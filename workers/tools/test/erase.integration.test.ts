/**
 * Tenant erasure in the tools worker (src/erase.ts) against its real D1 and R2: the tenant's rows
 * in every table with a tenant_id column (HTTP tools, the execution audit, MCP servers, and a table
 * this file adds, as a later schema step would) and its files go, in bounded batches; another
 * tenant's rows and files stay; only the erasure context may erase.
 */
import { env, exports } from "cloudflare:workers";
import { type EraseReport, type TenantContext, erasureContext } from "@crispy/contracts";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureSchema } from "../src/db-schema";
import { callOf, failure, httpTool, mcpServer, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;

function eraser(tenant: TenantContext): TenantContext {
  return erasureContext(tenant.config, `erase-${crypto.randomUUID()}`, tenant.traceparent);
}

/** HTTP tools, executions, an MCP server (the test server), files, and a row of the probe table. */
async function populate(tenant: TenantContext, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    unwrap(await tools.create(tenant, httpTool({ name: `tool_${i}` })));
    unwrap(await tools.execute(tenant, callOf("current_time", { timezone: "UTC" })));
    unwrap(await tools.execute(tenant, callOf("file_write", { path: `notes/${i}.txt`, content: `note ${i}` })));
  }
  unwrap(await tools.createMcpServer(tenant, mcpServer({ name: "docs" })));
  await env.TOOLS_DB.prepare("INSERT INTO erase_probe (tenant_id, note) VALUES (?, ?)")
    .bind(tenant.tenantId, "x")
    .run();
}

async function rows(tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ["http_tools", "tool_executions", "mcp_servers", "erase_probe"]) {
    out[table] = (await env.TOOLS_DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`)
      .bind(tenantId)
      .first<{ n: number }>())!.n;
  }
  return out;
}

async function files(tenantId: string): Promise<string[]> {
  return (await env.TOOL_FILES.list({ prefix: `tenants/${tenantId}/` })).objects.map((object) => object.key);
}

beforeAll(async () => {
  await ensureSchema(env.TOOLS_DB);
  // A tenant table no erasure code names: found by its tenant_id column, keyed by rowid.
  await env.TOOLS_DB.prepare("CREATE TABLE IF NOT EXISTS erase_probe (tenant_id TEXT NOT NULL, note TEXT)").run();
});

describe("eraseTenant", () => {
  it("erases every tenant table's rows and every file in bounded batches; another tenant keeps its own", async () => {
    const tenant = toolsTenant();
    const other = toolsTenant();
    await populate(tenant, 3);
    await populate(other, 1);
    // Three file_write executions, three current_time, and the six the populate calls audited.
    expect(await rows(tenant.tenantId)).toEqual({ http_tools: 3, tool_executions: 6, mcp_servers: 1, erase_probe: 1 });
    expect(await files(tenant.tenantId)).toHaveLength(3);
    expect(unwrap(await tools.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: false,
      counts: { erase_probe: 1, http_tools: 3, mcp_servers: 1, tool_executions: 6, files: 3 },
    });

    const calls: EraseReport[] = [];
    for (let call = 0; call < 20 && !calls.at(-1)?.done; call++) {
      calls.push(unwrap(await tools.eraseTenant(eraser(tenant), { batchSize: 2 })));
    }
    expect(calls.at(-1)!.done).toBe(true);
    for (const call of calls) for (const count of Object.values(call.counts)) expect(count).toBeLessThanOrEqual(2);
    const total = (store: string) => calls.reduce((sum, c) => sum + c.counts[store]!, 0);
    expect([total("http_tools"), total("tool_executions"), total("mcp_servers"), total("files")]).toEqual([3, 6, 1, 3]);

    expect(await rows(tenant.tenantId)).toEqual({ http_tools: 0, tool_executions: 0, mcp_servers: 0, erase_probe: 0 });
    expect(await files(tenant.tenantId)).toEqual([]);
    expect(unwrap(await tools.list(tenant)).map((t) => t.name)).not.toContain("tool_0");
    expect(unwrap(await tools.listMcpServers(tenant))).toEqual([]);
    expect(unwrap(await tools.executions(tenant, { limit: 100 })).items).toEqual([]);
    const read = unwrap(await tools.execute(tenant, callOf("file_read", { path: "notes/0.txt" })));
    expect(read.status).toBe("error");

    expect(await rows(other.tenantId)).toEqual({ http_tools: 1, tool_executions: 2, mcp_servers: 1, erase_probe: 1 });
    expect(await files(other.tenantId)).toEqual([`tenants/${other.tenantId}/files/notes/0.txt`]);
  });

  it("is idempotent and refuses an API request's context", async () => {
    const tenant = toolsTenant();
    await populate(tenant, 1);
    expect(failure(await tools.eraseTenant(tenant)).code).toBe("forbidden");
    expect(await files(tenant.tenantId)).toHaveLength(1);
    expect(unwrap(await tools.eraseTenant(eraser(tenant))).done).toBe(true);
    expect(unwrap(await tools.eraseTenant(eraser(tenant)))).toEqual({
      done: true,
      counts: { erase_probe: 0, http_tools: 0, mcp_servers: 0, tool_executions: 0, files: 0 },
    });
  });
});
