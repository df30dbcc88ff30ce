/**
 * Remote MCP servers as a tool source, against real MCP servers built with the SDK
 * (test/setup/mcp-server.ts): registering one, its tools in the registry as `<server>.<tool>`,
 * running them through `execute` (schema, timeout, size cap, isError, audit), the bearer secret,
 * the address guard, allow-lists, tenant isolation, removal, and the refreshes (on demand, before
 * use when stale, and the cron).
 *
 * This suite's runner allows code generation (vite's module runner needs it), so whether the
 * client's output-schema validator runs without `new Function` is checked in the gateway suite,
 * where this worker runs as built for deploy on plain workerd.
 */
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import type { McpServerSummary, TenantContext } from "@crispy/contracts";
import { describe, expect, inject, it } from "vitest";
import ToolsService from "../src/index";
import { CRON_REFRESH_AFTER_MS } from "../src/mcp-servers";
import { asKey, callOf, failure, httpTool, mcpServer, mcpUrl, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;
const TOKEN = inject("mcpServerToken");
const DEMO_TOOLS = ["demo.echo", "demo.add", "demo.fail", "demo.hang", "demo.big", "demo.whoami"];

/** Sets the tools the test server's `/mutable/<key>/mcp` lists. */
async function setMutableTools(key: string, names: string[]): Promise<void> {
  const response = await fetch(mcpUrl(`/mutable/${key}/tools`), { method: "POST", body: JSON.stringify(names) });
  expect(response.status).toBe(200);
  await response.body?.cancel();
}

/** Makes a server's cached list `ageMs` old, as if it had last been checked then. */
async function age(tenant: TenantContext, name: string, ageMs: number): Promise<void> {
  await env.TOOLS_DB.prepare("UPDATE mcp_servers SET checked_at = ? WHERE tenant_id = ? AND name = ?")
    .bind(new Date(Date.now() - ageMs).toISOString(), tenant.tenantId, name)
    .run();
}

async function mcpNames(tenant: TenantContext): Promise<string[]> {
  return unwrap(await tools.list(tenant))
    .filter((tool) => tool.kind === "mcp")
    .map((tool) => tool.name);
}

describe("registering a remote MCP server", () => {
  it("lists its tools as <server>.<tool> with their schemas, and reports the ones it skipped", async () => {
    const tenant = toolsTenant();
    const created = unwrap(await tools.createMcpServer(tenant, mcpServer({ description: "The demo server" })));
    expect(created).toMatchObject({
      name: "demo",
      url: mcpUrl(),
      description: "The demo server",
      hasAuth: false,
      allowTools: null,
      tools: DEMO_TOOLS.length,
      toolNames: DEMO_TOOLS,
      lastError: null,
    });
    expect(created.refreshedAt).not.toBeNull();
    expect(created.checkedAt).toBe(created.refreshedAt);
    expect(created.skipped).toEqual([
      { name: "bad name", reason: "its name is not 1-64 characters of A-Z a-z 0-9 _ -" },
      { name: "t".repeat(60), reason: `"demo.${"t".repeat(60)}" would be longer than 64 characters` },
    ]);

    const listed = unwrap(await tools.list(tenant));
    expect(listed.filter((tool) => tool.kind === "mcp").map((tool) => tool.name)).toEqual(DEMO_TOOLS);
    const echo = unwrap(await tools.get(tenant, "demo.echo"));
    expect(echo).toMatchObject({
      name: "demo.echo",
      kind: "mcp",
      description: "Echoes the text it is given",
      mcp: { server: "demo", tool: "echo" },
    });
    expect(JSON.parse(echo.parametersJson)).toMatchObject({
      type: "object",
      properties: { text: { type: "string" } },
      required: ["text"],
    });
    expect(unwrap(await tools.listMcpServers(tenant))).toEqual([created]);
  });

  it("refuses bodies it cannot store, and names the field", async () => {
    const tenant = toolsTenant();
    for (const [body, field] of [
      [mcpServer({ name: "Demo" }), "name"],
      [mcpServer({ name: "my_server" }), "name"],
      [mcpServer({ name: "my.server" }), "name"],
      [mcpServer({ timeoutMs: 50 }), "timeoutMs"],
      [mcpServer({ allowTools: ["has space"] }), "allowTools"],
      [mcpServer({ auth: { bearer: "" } }), "auth.bearer"],
    ] as const) {
      const error = failure(await tools.createMcpServer(tenant, body));
      expect(error, JSON.stringify(body)).toMatchObject({ code: "bad_request", details: { field } });
    }
    expect(unwrap(await tools.listMcpServers(tenant))).toEqual([]);
  });

  it("refuses server URLs at private, link-local, loopback or metadata addresses, and plain http", async () => {
    const tenant = toolsTenant();
    for (const url of [
      "http://10.0.0.1/mcp",
      "http://169.254.169.254/mcp",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/mcp",
      "https://192.168.1.20/mcp",
      "https://metadata.google.internal/mcp",
      "http://example.com/mcp",
      "http://127.0.0.2/mcp",
    ]) {
      const error = failure(await tools.createMcpServer(tenant, mcpServer({ url })));
      expect(error, url).toMatchObject({ code: "bad_request", details: { field: "url" } });
    }
    expect(unwrap(await tools.listMcpServers(tenant))).toEqual([]);
  });

  it("follows a redirect within the server's origin, and not one to a private address", async () => {
    const tenant = toolsTenant();
    const same = unwrap(
      await tools.createMcpServer(tenant, mcpServer({ name: "same", url: mcpUrl("/redirect-same/mcp") })),
    );
    expect(same).toMatchObject({ lastError: null, tools: DEMO_TOOLS.length });
    const away = unwrap(
      await tools.createMcpServer(tenant, mcpServer({ name: "away", url: mcpUrl("/redirect-private/mcp") })),
    );
    expect(away.tools).toBe(0);
    expect(away.lastError).toContain("169.254.169.254");
    expect(away.lastError).toContain("not followed");
  });

  it("keeps a server it cannot reach, saying why, within the timeout", async () => {
    const tenant = toolsTenant();
    const started = Date.now();
    const silent = unwrap(
      await tools.createMcpServer(tenant, mcpServer({ name: "silent", url: mcpUrl("/silent/mcp"), timeoutMs: 300 })),
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(silent).toMatchObject({ tools: 0, refreshedAt: null });
    expect(silent.lastError).toBe("listing its tools failed: no answer within the timeout of 300 ms");
    // Nothing listens on port 1 (workerd logs the refused connection as "uncaught"; it is caught).
    const down = unwrap(
      await tools.createMcpServer(tenant, mcpServer({ name: "down", url: "http://127.0.0.1:1/mcp" })),
    );
    expect(down.tools).toBe(0);
    expect(down.lastError).toBe("listing its tools failed: Network connection lost.");
    expect(unwrap(await tools.listMcpServers(tenant)).map((server) => server.name)).toEqual(["down", "silent"]);
  });

  it("refuses a second server of the same name, and an eleventh server", async () => {
    const tenant = toolsTenant();
    const offline = (name: string) => mcpServer({ name, url: mcpUrl("/nothing-here") });
    for (let i = 0; i < 10; i++) unwrap(await tools.createMcpServer(tenant, offline(`s${i}`)));
    expect(failure(await tools.createMcpServer(tenant, offline("s0")))).toMatchObject({
      code: "conflict",
      details: { field: "name" },
    });
    expect(failure(await tools.createMcpServer(tenant, offline("s10"))).message).toContain("10 MCP servers");
  });
});

describe("running a remote MCP tool", () => {
  it("calls the server's tool through execute and audits it under the qualified name", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    const echoed = unwrap(await tools.execute(tenant, callOf("demo.echo", { text: "hello over MCP" })));
    expect(echoed).toMatchObject({ tool: "demo.echo", status: "ok", output: "hello over MCP", truncated: false });
    const added = unwrap(await tools.execute(tenant, callOf("demo.add", { a: 2, b: 3 })));
    expect(added).toMatchObject({ status: "ok", output: "5" });

    const [last, first] = unwrap(await tools.executions(tenant, { limit: 10 })).items;
    expect(first).toMatchObject({ id: echoed.executionId, tool: "demo.echo", status: "ok", caller: "api" });
    expect(last).toMatchObject({ id: added.executionId, tool: "demo.add", status: "ok" });
    const filtered = unwrap(await tools.executions(tenant, { limit: 10, tool: "demo.echo" })).items;
    expect(filtered.map((row) => row.id)).toEqual([echoed.executionId]);

    // One remote tools/call through execute (initialize + call + close, over loopback), for the record.
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push(unwrap(await tools.execute(tenant, callOf("demo.echo", { text: `t${i}` }))).durationMs);
    }
    samples.sort((x, y) => x - y);
    console.warn(`remote MCP tools/call through execute: median ${samples[5]} ms, max ${samples[9]} ms (10 calls)`);
  });

  it("works with a server that answers JSON rather than SSE, and with a stateful one, whose session it ends", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer({ name: "json", url: mcpUrl("/mcp-json") })));
    unwrap(await tools.createMcpServer(tenant, mcpServer({ name: "kept", url: mcpUrl("/stateful/mcp") })));
    expect(unwrap(await tools.execute(tenant, callOf("json.echo", { text: "as JSON" }))).output).toBe("as JSON");
    expect(unwrap(await tools.execute(tenant, callOf("kept.echo", { text: "in a session" }))).output).toBe(
      "in a session",
    );
    const open = await (await fetch(mcpUrl("/stateful/sessions"))).json<{ open: number }>();
    expect(open.open).toBe(0);
  });

  it("refuses input that breaks the remote tool's schema, naming the field, without calling it", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    const wrongType = failure(await tools.execute(tenant, callOf("demo.add", { a: "two", b: 3 })));
    expect(wrongType).toMatchObject({ code: "validation_failed", details: { field: "a" } });
    expect(wrongType.message).toBe("input.a: must be a number (got string)");
    const missing = failure(await tools.execute(tenant, callOf("demo.echo", {})));
    expect(missing).toMatchObject({ code: "validation_failed", details: { field: "text" } });
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "demo.echo", status: "invalid" });
  });

  it("turns a result with isError into a failed run the model can read", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    const run = unwrap(await tools.execute(tenant, callOf("demo.fail")));
    expect(run).toMatchObject({ status: "error", output: "the tool failed on purpose" });
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "demo.fail", status: "error", error: "tool error" });
  });

  it("cuts a tool that hangs at its server's timeout, and audits a timeout", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer({ timeoutMs: 500 })));
    const started = Date.now();
    const run = unwrap(await tools.execute(tenant, callOf("demo.hang")));
    const elapsed = Date.now() - started;
    expect(run.status).toBe("timeout");
    expect(run.output).toBe('MCP tool "demo.hang" did not answer within its server\'s timeout of 500 ms');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2_500);
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "demo.hang", status: "timeout" });
    expect(audited!.durationMs).toBeLessThan(2_500);
  });

  it("reads a response up to the tenant's maxResponseBytes and fails past it", async () => {
    const tenant = toolsTenant({ config: { tools: { maxResponseBytes: 4_096 } } });
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    expect(unwrap(await tools.execute(tenant, callOf("demo.big", { bytes: 1_000 }))).status).toBe("ok");
    const big = unwrap(await tools.execute(tenant, callOf("demo.big", { bytes: 50_000 })));
    expect(big.status).toBe("error");
    expect(big.output).toContain("answered more than 4096 bytes");
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "demo.big", status: "error", error: "response too large" });
  });

  it("re-checks the stored URL at every call", async () => {
    const tenant = toolsTenant();
    // A row written before a rule existed (or by hand): the guard still stops it before any request.
    const now = new Date().toISOString();
    await env.TOOLS_DB.prepare(
      `INSERT INTO mcp_servers (tenant_id, name, url, description, secret_sealed, allow_tools_json, timeout_ms,
         tools_json, skipped_json, refreshed_at, checked_at, last_error, created_at)
       VALUES (?, 'legacy', 'https://169.254.169.254/mcp', NULL, NULL, NULL, 1000,
         '[{"name":"echo","description":"old","inputSchema":{"type":"object"}}]', '[]', ?, ?, NULL, ?)`,
    )
      .bind(tenant.tenantId, now, now, now)
      .run();
    const error = failure(await tools.execute(tenant, callOf("legacy.echo")));
    expect(error).toMatchObject({ code: "forbidden", details: { field: "url" } });
    expect(error.message).toContain("169.254.169.254");
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "legacy.echo", status: "denied" });
  });
});

describe("a server's bearer secret", () => {
  it("is sent to the server, and never returned by any method", async () => {
    const tenant = toolsTenant();
    const secure = unwrap(
      await tools.createMcpServer(
        tenant,
        mcpServer({ name: "secure", url: mcpUrl("/secure/mcp"), auth: { bearer: TOKEN } }),
      ),
    );
    expect(secure).toMatchObject({ hasAuth: true, lastError: null, toolNames: ["secure.whoami"] });
    const run = unwrap(await tools.execute(tenant, callOf("secure.whoami")));
    expect(run.output).toBe(`Bearer ${TOKEN}`);
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    expect(unwrap(await tools.execute(tenant, callOf("demo.whoami"))).output).toBe("(none)");

    const everything = JSON.stringify([
      secure,
      unwrap(await tools.listMcpServers(tenant)),
      unwrap(await tools.list(tenant)),
      unwrap(await tools.get(tenant, "secure.whoami")),
      unwrap(await tools.refreshMcpServer(tenant, "secure")),
      unwrap(await tools.executions(tenant, { limit: 100 })),
    ]);
    expect(everything).not.toContain(TOKEN);
    const row = await env.TOOLS_DB.prepare("SELECT * FROM mcp_servers WHERE tenant_id = ? AND name = 'secure'")
      .bind(tenant.tenantId)
      .first();
    expect(JSON.stringify(row)).not.toContain(TOKEN);
    expect(row?.secret_sealed).toMatch(/^v1\./);
  });

  it("that is missing or wrong leaves the server registered with the server's refusal as lastError", async () => {
    const tenant = toolsTenant();
    const none = unwrap(await tools.createMcpServer(tenant, mcpServer({ name: "none", url: mcpUrl("/secure/mcp") })));
    expect(none.tools).toBe(0);
    expect(none.lastError).toContain("HTTP 401");
    const wrong = unwrap(
      await tools.createMcpServer(
        tenant,
        mcpServer({ name: "wrong", url: mcpUrl("/secure/mcp"), auth: { bearer: "not-the-token" } }),
      ),
    );
    expect(wrong.lastError).toContain("HTTP 401");
  });
});

describe("which remote tools a key sees", () => {
  it("takes only the server's allowTools, and reports the others", async () => {
    const tenant = toolsTenant();
    const created = unwrap(await tools.createMcpServer(tenant, mcpServer({ allowTools: ["echo", "add", "missing"] })));
    expect(created.toolNames).toEqual(["demo.echo", "demo.add"]);
    expect(created.skipped).toEqual(
      expect.arrayContaining([
        { name: "fail", reason: "not in the server's allowTools" },
        { name: "missing", reason: "in allowTools, but the server does not list it" },
      ]),
    );
    expect(await mcpNames(tenant)).toEqual(["demo.echo", "demo.add"]);
    expect(failure(await tools.execute(tenant, callOf("demo.fail"))).code).toBe("not_found");
  });

  it("applies the key's tool allow-list to qualified names, and keeps such a key from changing servers", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    const narrow = asKey(tenant, ["tools", "admin"], ["demo.echo", "current_time"]);
    expect(unwrap(await tools.list(narrow)).map((tool) => tool.name)).toEqual(["current_time", "demo.echo"]);
    expect(unwrap(await tools.execute(narrow, callOf("demo.echo", { text: "ok" }))).output).toBe("ok");
    expect(failure(await tools.execute(narrow, callOf("demo.add", { a: 1, b: 2 }))).code).toBe("forbidden");
    expect(failure(await tools.get(narrow, "demo.add")).code).toBe("forbidden");
    expect(unwrap(await tools.listMcpServers(narrow))).toEqual([
      expect.objectContaining({ name: "demo", tools: 1, toolNames: ["demo.echo"], skipped: [] }),
    ]);
    expect(failure(await tools.createMcpServer(narrow, mcpServer({ name: "other" }))).code).toBe("forbidden");
    expect(failure(await tools.removeMcpServer(narrow, "demo")).code).toBe("forbidden");
    expect(failure(await tools.refreshMcpServer(narrow, "demo")).code).toBe("forbidden");
  });

  it("needs the tools scope to list servers and admin to change them", async () => {
    const tenant = toolsTenant();
    const user = asKey(tenant, ["tools"]);
    expect(failure(await tools.createMcpServer(user, mcpServer())).code).toBe("forbidden");
    expect(unwrap(await tools.listMcpServers(user))).toEqual([]);
    expect(failure(await tools.listMcpServers(asKey(tenant, ["chat"]))).code).toBe("forbidden");
    const off = toolsTenant({ config: { features: { tools: false } } });
    expect(failure(await tools.listMcpServers(off)).code).toBe("forbidden");
  });

  it("never lets qualified names be created, replaced or removed as HTTP tools", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    expect(failure(await tools.create(tenant, httpTool({ name: "demo.echo" }))).code).toBe("bad_request");
    expect(failure(await tools.replace(tenant, "demo.echo", httpTool({ name: "demo.echo" }))).code).toBe("bad_request");
    expect(failure(await tools.remove(tenant, "demo.echo")).code).toBe("bad_request");
    expect(await mcpNames(tenant)).toContain("demo.echo");
  });
});

describe("tenant isolation of remote MCP servers", () => {
  it("never lets tenant B see, run, refresh or remove tenant A's servers or tools", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    unwrap(await tools.createMcpServer(a, mcpServer({ url: mcpUrl("/secure/mcp"), auth: { bearer: TOKEN } })));
    expect(await mcpNames(a)).toEqual(["demo.whoami"]);

    expect(await mcpNames(b)).toEqual([]);
    expect(unwrap(await tools.listMcpServers(b))).toEqual([]);
    expect(failure(await tools.get(b, "demo.whoami")).code).toBe("not_found");
    expect(failure(await tools.execute(b, callOf("demo.whoami"))).code).toBe("not_found");
    expect(failure(await tools.refreshMcpServer(b, "demo")).code).toBe("not_found");
    expect(failure(await tools.removeMcpServer(b, "demo")).code).toBe("not_found");

    // B's own "demo" is B's: another server, no secret, and A's stays as it was.
    const theirs = unwrap(await tools.createMcpServer(b, mcpServer()));
    expect(theirs.hasAuth).toBe(false);
    expect(unwrap(await tools.execute(b, callOf("demo.whoami"))).output).toBe("(none)");
    expect(unwrap(await tools.execute(a, callOf("demo.whoami"))).output).toBe(`Bearer ${TOKEN}`);
    unwrap(await tools.removeMcpServer(b, "demo"));
    expect(await mcpNames(a)).toEqual(["demo.whoami"]);
    expect(unwrap(await tools.executions(b, { limit: 100 })).items.map((row) => row.status)).toEqual(["ok", "invalid"]);
  });
});

describe("removing and refreshing a server", () => {
  it("removes its tools from the registry with it", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.createMcpServer(tenant, mcpServer()));
    expect(unwrap(await tools.removeMcpServer(tenant, "demo"))).toEqual({ deleted: true });
    expect(await mcpNames(tenant)).toEqual([]);
    expect(failure(await tools.execute(tenant, callOf("demo.echo", { text: "x" }))).code).toBe("not_found");
    expect(failure(await tools.removeMcpServer(tenant, "demo")).code).toBe("not_found");
    expect(failure(await tools.removeMcpServer(tenant, "Not A Name")).code).toBe("bad_request");
  });

  it("picks up a changed tool list on demand", async () => {
    const tenant = toolsTenant();
    const key = crypto.randomUUID();
    const before = unwrap(
      await tools.createMcpServer(tenant, mcpServer({ name: "mut", url: mcpUrl(`/mutable/${key}/mcp`) })),
    );
    expect(before.toolNames).toEqual(["mut.first"]);
    await setMutableTools(key, ["second", "third"]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = unwrap(await tools.refreshMcpServer(tenant, "mut"));
    expect(after.toolNames).toEqual(["mut.second", "mut.third"]);
    expect(Date.parse(after.refreshedAt!)).toBeGreaterThan(Date.parse(before.refreshedAt!));
    expect(unwrap(await tools.execute(tenant, callOf("mut.third", { text: "hi" }))).output).toBe("third: hi");
    expect(failure(await tools.execute(tenant, callOf("mut.first", { text: "hi" }))).code).toBe("not_found");
  });

  it("refreshes a stale list before it is listed or run, and keeps the last good list when that fails", async () => {
    const tenant = toolsTenant();
    const key = crypto.randomUUID();
    unwrap(await tools.createMcpServer(tenant, mcpServer({ name: "mut", url: mcpUrl(`/mutable/${key}/mcp`) })));
    await setMutableTools(key, ["listed"]);
    expect(await mcpNames(tenant)).toEqual(["mut.first"]);
    await age(tenant, "mut", 11 * 60_000);
    expect(await mcpNames(tenant)).toEqual(["mut.listed"]);

    await setMutableTools(key, ["run"]);
    await age(tenant, "mut", 11 * 60_000);
    expect(unwrap(await tools.execute(tenant, callOf("mut.run", { text: "now" }))).output).toBe("run: now");

    // The server goes away: the cached list stays, and lastError says what happened.
    await env.TOOLS_DB.prepare("UPDATE mcp_servers SET url = ? WHERE tenant_id = ? AND name = 'mut'")
      .bind(mcpUrl("/nothing-here"), tenant.tenantId)
      .run();
    await age(tenant, "mut", 11 * 60_000);
    expect(await mcpNames(tenant)).toEqual(["mut.run"]);
    const [server] = unwrap(await tools.listMcpServers(tenant));
    expect(server!.lastError).toBe("listing its tools failed: answered HTTP 404: not found");
  });

  it("is done by the cron for stale servers of every tenant", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    const keyA = crypto.randomUUID();
    const keyB = crypto.randomUUID();
    unwrap(await tools.createMcpServer(a, mcpServer({ name: "mut", url: mcpUrl(`/mutable/${keyA}/mcp`) })));
    unwrap(await tools.createMcpServer(b, mcpServer({ name: "mut", url: mcpUrl(`/mutable/${keyB}/mcp`) })));
    unwrap(await tools.createMcpServer(b, mcpServer({ name: "recent", url: mcpUrl(`/mutable/${keyB}/mcp`) })));
    await setMutableTools(keyA, ["cron-a"]);
    await setMutableTools(keyB, ["cron-b"]);
    // Older than the cron's threshold but younger than the TTL: only the cron refreshes these.
    await age(a, "mut", CRON_REFRESH_AFTER_MS + 60_000);
    await age(b, "mut", CRON_REFRESH_AFTER_MS + 60_000);

    // The handler as the runtime calls it (found by name on the entrypoint's prototype).
    expect(Object.getOwnPropertyNames(ToolsService.prototype)).toContain("scheduled");
    const service = new ToolsService(createExecutionContext(), env) as unknown as {
      scheduled(controller: ScheduledController): Promise<void>;
    };
    await service.scheduled(createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() }));

    const names = (servers: McpServerSummary[]) => Object.fromEntries(servers.map((s) => [s.name, s.toolNames]));
    expect(names(unwrap(await tools.listMcpServers(a)))).toEqual({ mut: ["mut.cron-a"] });
    expect(names(unwrap(await tools.listMcpServers(b)))).toEqual({ mut: ["mut.cron-b"], recent: ["recent.first"] });
  });
});
