/**
 * Remote MCP servers through the gateway, with the real tools, chat and rag workers beside it
 * (the tools worker as built for deploy, on plain workerd) and a real MCP server built with the
 * SDK on 127.0.0.1 (test/setup/mcp-server.ts): the /v1/mcp-servers routes, the servers' tools in
 * the tool routes as `<server>.<tool>`, scopes, tenant isolation, and a chat turn calling one.
 */
import { describe, expect, inject, it } from "vitest";
import type { AuditRecord, ChatTurnReply, McpServerSummary, Page, ToolExecutionRecord } from "@crispy/contracts";
import { bearer, call, createKey, expectError, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const port = inject("mcpServerPort");
const TOKEN = inject("mcpServerToken");
const json = (key: string) => bearer(key, { "content-type": "application/json" });
const DEMO_TOOLS = ["demo.echo", "demo.add", "demo.hang", "demo.whoami"];

function toolsTenant() {
  return registerTenant({ features: { tools: true } });
}

function demoServer(overrides: Record<string, unknown> = {}) {
  return { name: "demo", url: `http://127.0.0.1:${port}/mcp`, ...overrides };
}

async function post(path: string, key: string, body: unknown): Promise<Response> {
  return call(path, { method: "POST", headers: json(key), body: JSON.stringify(body) });
}

async function created(key: string, body: unknown): Promise<McpServerSummary> {
  const response = await post("/v1/mcp-servers", key, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json<McpServerSummary>();
}

async function toolNames(key: string): Promise<string[]> {
  const response = await call("/v1/tools", { headers: bearer(key) });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json<{ tools: Array<{ name: string }> }>()).tools.map((tool) => tool.name);
}

describe("the /v1/mcp-servers routes", () => {
  it("register a server whose tools then list and run as <server>.<tool>", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    const server = await created(key, demoServer({ description: "Demo tools" }));
    // demo.add has an output schema: listing it compiled one without code generation, on workerd.
    expect(server).toMatchObject({
      name: "demo",
      description: "Demo tools",
      hasAuth: false,
      timeoutMs: 10_000,
      tools: DEMO_TOOLS.length,
      toolNames: DEMO_TOOLS,
      skipped: [],
      lastError: null,
    });
    const listed = await (await call("/v1/mcp-servers", { headers: bearer(key) })).json<{
      servers: McpServerSummary[];
    }>();
    expect(listed.servers).toEqual([server]);

    const tools = (
      await (
        await call("/v1/tools", { headers: bearer(key) })
      ).json<{
        tools: Array<{ name: string; kind: string; parameters: unknown; mcp?: unknown }>;
      }>()
    ).tools;
    expect(tools.filter((tool) => tool.kind === "mcp").map((tool) => tool.name)).toEqual(DEMO_TOOLS);
    expect(tools.find((tool) => tool.name === "demo.echo")).toMatchObject({
      mcp: { server: "demo", tool: "echo" },
      parameters: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
    });

    const ran = await post("/v1/tools/demo.echo/execute", key, { input: { text: "over HTTP and MCP" } });
    expect(ran.status, await ran.clone().text()).toBe(200);
    const run = await ran.json<{ status: string; output: unknown; executionId: string }>();
    expect(run).toMatchObject({ status: "ok", output: "over HTTP and MCP" });
    const added = await (await post("/tools/exec", key, { name: "demo.add", input: { a: 2, b: 40 } })).json<{
      output: unknown;
    }>();
    expect(added.output).toBe(42);

    const audit = await (await call("/v1/tools/executions?tool=demo.echo", { headers: bearer(key) })).json<
      Page<ToolExecutionRecord>
    >();
    expect(audit.items).toEqual([expect.objectContaining({ id: run.executionId, tool: "demo.echo", status: "ok" })]);

    const invalid = await expectError(
      await post("/v1/tools/demo.add/execute", key, { input: { a: 2 } }),
      400,
      "validation_failed",
    );
    expect(invalid.message).toBe("input.b: is required");
  });

  it("leave an audit trail of registrations, refreshes and removals that never holds the bearer secret", async () => {
    const a = toolsTenant();
    const { key, id: keyId } = await createKey(a.id, ["tools", "admin"]);
    await created(key, demoServer({ auth: { bearer: TOKEN }, allowTools: ["echo"] }));
    expect((await post("/v1/mcp-servers/demo/refresh", key, {})).status).toBe(200);
    expect((await call("/v1/mcp-servers/demo", { method: "DELETE", headers: bearer(key) })).status).toBe(200);
    const response = await call("/v1/audit", { headers: bearer(key) });
    expect(response.status).toBe(200);
    const { items } = await response.json<Page<AuditRecord>>();
    const mcp = items.filter((item) => item.action.startsWith("mcp_server."));
    expect(mcp.map((item) => item.action)).toEqual([
      "mcp_server.removed",
      "mcp_server.refreshed",
      "mcp_server.created",
    ]);
    for (const item of mcp) expect(item).toMatchObject({ tenantId: a.id, actor: keyId, target: "demo" });
    expect(mcp[2]!.details).toEqual({
      origin: `http://127.0.0.1:${port}`,
      auth: "bearer",
      allowTools: ["echo"],
      timeoutMs: null,
    });
    expect(JSON.stringify(items)).not.toContain(TOKEN);
  });

  it("answer 400 naming the field for a body that breaks the schema or an address the guard refuses", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    for (const [body, field] of [
      [demoServer({ name: "my_server" }), "name"],
      [demoServer({ name: "demo.two" }), "name"],
      [{ name: "demo" }, "url"],
      [demoServer({ url: "ftp://example.com/mcp" }), "url"],
      [demoServer({ allowTools: [] }), "allowTools"],
      [demoServer({ timeoutMs: 60_000 }), "timeoutMs"],
      [demoServer({ auth: { secret: "x" } }), "auth"],
      [demoServer({ headers: {} }), "headers"],
    ] as const) {
      const error = await expectError(await post("/v1/mcp-servers", key, body), 400, "validation_failed");
      expect(error.message, JSON.stringify(body)).toContain(field);
    }
    for (const url of ["https://10.0.0.1/mcp", "http://169.254.169.254/mcp", "https://metadata.google.internal/mcp"]) {
      const error = await expectError(await post("/v1/mcp-servers", key, demoServer({ url })), 400, "bad_request");
      expect(error.message, url).toMatch(/^url: /);
    }
    expect(
      (await (await call("/v1/mcp-servers", { headers: bearer(key) })).json<{ servers: unknown[] }>()).servers,
    ).toEqual([]);
  });

  it("need admin to change servers and tools to list them", async () => {
    const a = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    await created(admin, demoServer());
    const { key: user } = await createKey(a.id, ["tools"]);
    expect((await call("/v1/mcp-servers", { headers: bearer(user) })).status).toBe(200);
    await expectError(await post("/v1/mcp-servers", user, demoServer({ name: "other" })), 403, "forbidden");
    await expectError(
      await call("/v1/mcp-servers/demo", { method: "DELETE", headers: bearer(user) }),
      403,
      "forbidden",
    );
    await expectError(await post("/v1/mcp-servers/demo/refresh", user, {}), 403, "forbidden");
    const { key: chatOnly } = await createKey(a.id, ["chat"]);
    await expectError(await call("/v1/mcp-servers", { headers: bearer(chatOnly) }), 403, "forbidden");

    const off = registerTenant({ features: { tools: false } });
    const { key: offKey } = await createKey(off.id, ["tools", "admin"]);
    await expectError(await post("/v1/mcp-servers", offKey, demoServer()), 403, "forbidden");
  });

  it("refresh a server on demand, and delete it with its tools", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    const before = await created(key, demoServer());
    await new Promise((resolve) => setTimeout(resolve, 5));
    const refreshed = await post("/v1/mcp-servers/demo/refresh", key, {});
    expect(refreshed.status, await refreshed.clone().text()).toBe(200);
    const after = await refreshed.json<McpServerSummary>();
    expect(after.toolNames).toEqual(DEMO_TOOLS);
    expect(Date.parse(after.refreshedAt!)).toBeGreaterThan(Date.parse(before.refreshedAt!));

    const deleted = await call("/v1/mcp-servers/demo", { method: "DELETE", headers: bearer(key) });
    expect(await deleted.json()).toEqual({ deleted: true });
    expect((await toolNames(key)).filter((name) => name.startsWith("demo."))).toEqual([]);
    await expectError(await post("/v1/tools/demo.echo/execute", key, { input: { text: "x" } }), 404, "not_found");
    await expectError(await call("/v1/mcp-servers/demo", { method: "DELETE", headers: bearer(key) }), 404, "not_found");
    await expectError(await post("/v1/mcp-servers/nope/refresh", key, {}), 404, "not_found");
  });

  it("cut a remote tool that hangs at the server's timeout", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    await created(key, demoServer({ timeoutMs: 400 }));
    const started = Date.now();
    const run = await (await post("/v1/tools/demo.hang/execute", key, { input: {} })).json<{
      status: string;
      durationMs: number;
    }>();
    expect(run.status).toBe("timeout");
    expect(run.durationMs).toBeGreaterThanOrEqual(350);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("tenant isolation of remote MCP servers", () => {
  it("never shows tenant B tenant A's servers, tools or secret, nor lets B run, refresh or delete them", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    const { key: adminA } = await createKey(a.id, ["tools", "admin"]);
    const secure = await created(
      adminA,
      demoServer({ url: `http://127.0.0.1:${port}/secure/mcp`, auth: { bearer: TOKEN } }),
    );
    expect(secure).toMatchObject({ hasAuth: true, lastError: null });
    const whoami = await (await post("/v1/tools/demo.whoami/execute", adminA, { input: {} })).json<{
      output: unknown;
    }>();
    expect(whoami.output).toBe(`Bearer ${TOKEN}`);

    const { key: adminB } = await createKey(b.id, ["tools", "admin"]);
    const theirs = await (await call("/v1/mcp-servers", { headers: bearer(adminB) })).json<{ servers: unknown[] }>();
    expect(theirs.servers).toEqual([]);
    expect((await toolNames(adminB)).filter((name) => name.includes("."))).toEqual([]);
    await expectError(await post("/v1/tools/demo.whoami/execute", adminB, { input: {} }), 404, "not_found");
    await expectError(await post("/tools/exec", adminB, { name: "demo.echo", input: { text: "x" } }), 404, "not_found");
    await expectError(await post("/v1/mcp-servers/demo/refresh", adminB, {}), 404, "not_found");
    await expectError(
      await call("/v1/mcp-servers/demo", { method: "DELETE", headers: bearer(adminB) }),
      404,
      "not_found",
    );

    const everything = [
      JSON.stringify(secure),
      await (await call("/v1/mcp-servers", { headers: bearer(adminA) })).text(),
      await (await call("/v1/tools", { headers: bearer(adminA) })).text(),
      await (await post("/v1/mcp-servers/demo/refresh", adminA, {})).text(),
      await (await call("/v1/tools/executions", { headers: bearer(adminA) })).text(),
    ].join("\n");
    expect(everything).toContain("demo.whoami");
    expect(everything).not.toContain(TOKEN);
    expect(await toolNames(adminA)).toContain("demo.whoami");
  });
});

describe("remote MCP tools in chat", () => {
  it("are offered to the model in POST /v1/chat, which calls demo.echo", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools", "admin"]);
    await created(key, demoServer());
    const response = await post("/v1/chat", key, { message: 'Say it back: demo.echo {"text":"from the chat loop"}' });
    expect(response.status, await response.clone().text()).toBe(200);
    const events = await readEvents(response);
    const toolCall = JSON.parse(events.find((e) => e.event === "tool_call")?.data ?? "null") as Record<
      string,
      string
    > | null;
    expect(toolCall).toMatchObject({ name: "demo.echo" });
    expect(JSON.parse(toolCall!.arguments!)).toEqual({ text: "from the chat loop" });
    const result = JSON.parse(events.find((e) => e.event === "tool_result")!.data) as Record<string, unknown>;
    expect(result).toMatchObject({ id: toolCall!.id, name: "demo.echo", status: "ok", output: "from the chat loop" });
    expect(events.at(-1)!.event).toBe("done");

    const audit = await (await call("/v1/tools/executions", { headers: bearer(key) })).json<
      Page<ToolExecutionRecord>
    >();
    expect(audit.items[0]).toMatchObject({ tool: "demo.echo", caller: "chat", status: "ok" });
  });

  it("run server-side for POST /v1/chat/completions with server_tools", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools", "admin"]);
    await created(key, demoServer());
    const response = await post("/v1/chat/completions", key, {
      messages: [{ role: "user", content: 'demo.echo {"text":"from completions"}' }],
      server_tools: true,
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const reply = await response.json<{ choices: Array<{ message: { content: string | null } }> }>();
    expect(reply.choices[0]!.message.content).toContain("from completions");
    const audit = await (await call("/v1/tools/executions", { headers: bearer(key) })).json<
      Page<ToolExecutionRecord>
    >();
    expect(audit.items[0]).toMatchObject({ tool: "demo.echo", caller: "completions", status: "ok" });
  });

  it("a JSON chat turn lists the remote tool it ran", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools", "admin"]);
    await created(key, demoServer());
    const response = await post("/v1/chat", key, { message: 'demo.add {"a":1,"b":2}', stream: false });
    expect(response.status, await response.clone().text()).toBe(200);
    const reply = await response.json<ChatTurnReply>();
    expect(reply.tools?.[0]).toMatchObject({ name: "demo.add", status: "ok" });
  });
});
