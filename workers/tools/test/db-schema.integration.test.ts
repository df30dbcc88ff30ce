import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SCHEMA_STEPS, applySchema, ensureSchema } from "../src/db-schema";

describe("the D1 schema", () => {
  it("is applied once per step, however many isolates race to apply it", async () => {
    await ensureSchema(env.TOOLS_DB);
    await Promise.all([applySchema(env.TOOLS_DB), applySchema(env.TOOLS_DB), applySchema(env.TOOLS_DB)]);
    const { results } = await env.TOOLS_DB.prepare(
      "SELECT version, description FROM schema_version ORDER BY version",
    ).all<{
      version: number;
      description: string;
    }>();
    expect(results).toEqual(SCHEMA_STEPS.map(({ version, description }) => ({ version, description })));
  });

  it("keys every table and index by tenant first", async () => {
    await ensureSchema(env.TOOLS_DB);
    const { results } = await env.TOOLS_DB.prepare(
      "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('http_tools', 'tool_executions') AND sql IS NOT NULL",
    ).all<{ name: string; sql: string }>();
    expect(results.length).toBeGreaterThanOrEqual(2);
    for (const index of results) expect(index.sql, index.name).toMatch(/\(tenant_id,/);
    const table = await env.TOOLS_DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'http_tools'").first<{
      sql: string;
    }>();
    expect(table?.sql).toContain("PRIMARY KEY (tenant_id, name)");
  });

  it("keys mcp_servers by tenant first; its one other index serves the cron's stale-server query", async () => {
    await ensureSchema(env.TOOLS_DB);
    const table = await env.TOOLS_DB.prepare("SELECT sql FROM sqlite_master WHERE name = 'mcp_servers'").first<{
      sql: string;
    }>();
    expect(table?.sql).toContain("PRIMARY KEY (tenant_id, name)");
    const { results } = await env.TOOLS_DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mcp_servers' AND sql IS NOT NULL",
    ).all<{ name: string }>();
    expect(results.map((index) => index.name)).toEqual(["mcp_servers_due"]);
  });
});
