/**
 * The platform as an MCP server (`POST /mcp`), driven by the MCP SDK's own Client and
 * StreamableHTTPClientTransport (its fetch routed to the gateway in this isolate), with the real
 * tools, rag and ingest workers beside it and the test tool server on 127.0.0.1 for HTTP tools:
 * listing with schemas, built-in and HTTP tool calls, search citations, the audit, tool errors vs
 * JSON-RPC errors, deny by default, tenant isolation, rate limits, and the transport's edges
 * (stateless, GET/DELETE 405, parse errors, batches, body limit) — raw requests for those.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import type { IngestJob, Page, ToolExecutionRecord } from "@crispy/contracts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CallToolResult, ErrorCode, LATEST_PROTOCOL_VERSION, McpError } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { bearer, call, createKey, eventually, expectError, registerTenant } from "./helpers";

const port = inject("toolServerPort");
const MCP_URL = "http://gateway.test/mcp";
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const unique = () => `zq${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;

function toolsTenant(overrides: Parameters<typeof registerTenant>[0] = {}) {
  return registerTenant({ features: { tools: true }, ...overrides });
}

/** An SDK client connected to the gateway's /mcp with `key`; `sent` records each HTTP exchange it made. */
async function connect(key: string): Promise<{ client: Client; sent: string[] }> {
  const sent: string[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    requestInit: { headers: bearer(key) },
    fetch: async (url, init) => {
      const response = await exports.default.fetch(new Request(url, init));
      sent.push(`${init?.method ?? "GET"} ${response.status}`);
      return response;
    },
  });
  // The client's default validator (Ajv) generates code, which workerd does not allow.
  const client = new Client(
    { name: "mcp-test", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return { client, sent };
}

async function createTool(key: string, tool: Record<string, unknown>): Promise<void> {
  const response = await call("/v1/tools", {
    method: "POST",
    headers: bearer(key, { "content-type": "application/json" }),
    body: JSON.stringify(tool),
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

function weatherTool() {
  return {
    name: "weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
    url: `http://127.0.0.1:${port}/weather`,
    method: "POST",
    auth: { type: "bearer", secret: "s3cret-weather-token" },
  };
}

async function audit(key: string): Promise<ToolExecutionRecord[]> {
  const response = await call("/v1/tools/executions?limit=100", { headers: bearer(key) });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json<Page<ToolExecutionRecord>>()).items;
}

/** The JSON-RPC error a call was refused with (the SDK client throws it as an McpError). */
async function rpcError(promise: Promise<unknown>): Promise<McpError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
}

async function rawPost(key: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return call("/mcp", { method: "POST", headers: bearer(key, { ...MCP_HEADERS, ...headers }), body });
}

describe("MCP tools through POST /mcp with the SDK's client", () => {
  it("negotiates the current protocol revision and lists the key's tools with their JSON Schemas", async () => {
    const a = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    await createTool(admin, weatherTool());
    const { key } = await createKey(a.id, ["tools"]);
    const { client } = await connect(key);

    expect(client.getServerVersion()).toMatchObject({ name: "crispy-enigma" });
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(["search_documents", "current_time", "file_write", "weather"]));
    const weather = tools.find((tool) => tool.name === "weather")!;
    expect(weather.description).toBe("Current weather for a city");
    expect(weather.inputSchema).toEqual(weatherTool().parameters);
    expect(weather.annotations).toEqual({ openWorldHint: true });
    const search = tools.find((tool) => tool.name === "search_documents")!;
    expect(search.inputSchema).toMatchObject({ type: "object", required: ["query"] });
    expect(search.annotations).toMatchObject({ readOnlyHint: true });
    expect(tools.find((tool) => tool.name === "file_write")!.annotations).toMatchObject({ readOnlyHint: false });
    expect(JSON.stringify(tools)).not.toContain("s3cret");
    await client.close();

    // The protocol revision: what a client asking for the SDK's latest gets back.
    const init = await rawPost(
      key,
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: { name: "raw", version: "1" },
        },
      }),
    );
    expect(init.status).toBe(200);
    expect(init.headers.get("mcp-session-id")).toBeNull();
    expect(init.headers.get("x-request-id")).toBeTruthy();
    const body = await init.json<{ result: { protocolVersion: string } }>();
    expect(body.result.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
  });

  it("calls a built-in and the tenant's HTTP tool, each audited with caller mcp", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    await createTool(key, weatherTool());
    const { client } = await connect(key);

    const time = (await client.callTool({
      name: "current_time",
      arguments: { timezone: "Europe/Paris" },
    })) as CallToolResult;
    expect(time.isError).toBeFalsy();
    expect(time.structuredContent).toMatchObject({ timezone: "Europe/Paris" });
    expect(JSON.parse(textOf(time))).toEqual(time.structuredContent);
    expect(Math.abs((time.structuredContent as { unix: number }).unix - Date.now() / 1000)).toBeLessThan(60);

    const weather = (await client.callTool({ name: "weather", arguments: { city: "Lisbon" } })) as CallToolResult;
    expect(weather.isError).toBeFalsy();
    expect(weather.structuredContent).toEqual({ city: "Lisbon", tempC: 21, auth: "Bearer s3cret-weather-token" });

    const rows = await audit(key);
    const byId = (id: unknown) => rows.find((row) => row.id === id);
    expect(byId(time._meta?.executionId)).toMatchObject({ tool: "current_time", status: "ok", caller: "mcp" });
    expect(byId(weather._meta?.executionId)).toMatchObject({ tool: "weather", status: "ok", caller: "mcp" });
    await client.close();
  });

  it("returns search_documents' passages with their citations", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "ingest"]);
    const word = unique();
    const ingested = await call("/v1/documents?wait=true", {
      method: "POST",
      headers: bearer(key, { "content-type": "application/json" }),
      body: JSON.stringify({
        title: "Lighthouse keeping",
        url: "https://docs.example/lighthouses",
        format: "markdown",
        text: `# Lighthouses\n\nThe ${word} lighthouse at Cape Ashford was first lit in 1852.`,
      }),
    });
    expect(ingested.status, await ingested.clone().text()).toBe(200);
    const job = await ingested.json<IngestJob>();
    const { client } = await connect(key);

    const result = (await client.callTool({
      name: "search_documents",
      arguments: { query: `When was the ${word} lighthouse first lit?` },
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const found = result.structuredContent as {
      found: boolean;
      results: Array<{ title: string; url: string; documentId: string; chunkId: string; text: string }>;
    };
    expect(found.found).toBe(true);
    expect(found.results[0]).toMatchObject({
      title: "Lighthouse keeping",
      url: "https://docs.example/lighthouses",
      documentId: job.docId,
    });
    expect(found.results[0]!.chunkId).toBeTruthy();
    expect(found.results[0]!.text).toContain(word);
    // A client that reads only the text content gets the same citations.
    expect(textOf(result)).toContain("https://docs.example/lighthouses");
    await client.close();
  });

  it("reports input that breaks the schema as a tool error naming the field; an unknown tool as -32602", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    await createTool(key, weatherTool());
    const { client } = await connect(key);

    const bad = (await client.callTool({ name: "weather", arguments: { city: 42 } })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain("city");
    expect(bad._meta).toMatchObject({ code: "validation_failed" });

    const missing = (await client.callTool({ name: "current_time", arguments: { zone: "UTC" } })) as CallToolResult;
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain("zone");

    const unknown = await rpcError(client.callTool({ name: "no_such_tool", arguments: {} }));
    expect(unknown.code).toBe(ErrorCode.InvalidParams);
    expect(unknown.message).toContain("no_such_tool");

    const rows = await audit(key);
    expect(rows.filter((row) => row.caller === "mcp" && row.status === "invalid")).toHaveLength(3);
    expect(rows.find((row) => row.tool === "no_such_tool")).toMatchObject({ caller: "mcp", status: "invalid" });
    await client.close();
  });

  it("reports a tool that ran and failed as isError with its message", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools", "admin"]);
    await createTool(key, { ...weatherTool(), name: "slow", url: `http://127.0.0.1:${port}/slow`, timeoutMs: 200 });
    const { client } = await connect(key);
    const slow = (await client.callTool({ name: "slow", arguments: { city: "Oslo" } })) as CallToolResult;
    expect(slow.isError).toBe(true);
    expect(slow._meta).toMatchObject({ status: "timeout" });
    expect(textOf(slow)).toMatch(/time/i);
    expect((await audit(key)).find((row) => row.id === slow._meta?.executionId)).toMatchObject({
      caller: "mcp",
      status: "timeout",
    });
    await client.close();
  });
});

describe("who may use /mcp", () => {
  it("never shows or runs tenant A's tools for tenant B's key", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    const { key: aKey } = await createKey(a.id, ["tools", "admin"]);
    await createTool(aKey, weatherTool());
    const { key: bKey } = await createKey(b.id, ["tools", "admin"]);

    const { client } = await connect(bKey);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).not.toContain("weather");
    expect(tools.map((tool) => tool.name)).toContain("current_time");
    const refused = await rpcError(client.callTool({ name: "weather", arguments: { city: "Oslo" } }));
    expect(refused.code).toBe(ErrorCode.InvalidParams);
    await client.close();

    // B's key naming tenant A is refused before MCP is involved.
    await expectError(
      await rawPost(bKey, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }), { "x-tenant-id": a.id }),
      403,
      "forbidden",
    );
    expect((await audit(aKey)).filter((row) => row.tool === "weather")).toEqual([]);
    expect((await audit(bKey)).find((row) => row.tool === "weather")).toMatchObject({ status: "invalid" });
  });

  it("is deny by default: no key, no tools scope, tools off for the tenant, outside the allow-list", async () => {
    const list = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const a = toolsTenant();
    const none = await call("/mcp", { method: "POST", headers: { ...MCP_HEADERS, "x-tenant-id": a.id }, body: list });
    await expectError(none, 401, "unauthorized");

    const { key: chatOnly } = await createKey(a.id, ["chat", "search"]);
    const error = await expectError(await rawPost(chatOnly, list), 403, "forbidden");
    expect(error.message).toContain("tools");
    // The SDK client sees the same refusal as an HTTP error when it connects.
    const refused = await connect(chatOnly).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(403);

    const off = registerTenant({ features: { tools: false } });
    const { key: offKey } = await createKey(off.id, ["tools"]);
    expect((await expectError(await rawPost(offKey, list), 403, "forbidden")).message).toContain("tools");

    const { key: narrow } = await createKey(a.id, ["tools"], { tools: ["current_time"] });
    const { client } = await connect(narrow);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["current_time"]);
    const outside = await rpcError(client.callTool({ name: "file_list", arguments: {} }));
    expect(outside.code).toBe(ErrorCode.InvalidParams);
    expect(outside.message).toContain("allow-list");
    const inside = (await client.callTool({ name: "current_time", arguments: {} })) as CallToolResult;
    expect(inside.isError).toBeFalsy();
    await client.close();
  });

  it("admits each POST against the key's rate limit", async () => {
    const a = toolsTenant({ rateLimits: { perKey: { perMinute: 6, burst: 3 } } });
    const { key } = await createKey(a.id, ["tools"]);
    const list = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await rawPost(key, list);
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
      else await response.body?.cancel();
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    await expectError(limited!, 429, "rate_limited");
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});

describe("the transport's edges", () => {
  it("is stateless: a tools/call needs no initialize and no session", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools"]);
    const response = await rawPost(
      key,
      JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "current_time", arguments: {} } }),
      { "mcp-protocol-version": LATEST_PROTOCOL_VERSION },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await response.json<{ id: number; result: CallToolResult }>();
    expect(body.id).toBe(7);
    expect(body.result.structuredContent).toMatchObject({ timezone: "UTC" });

    const badVersion = await rawPost(key, JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/list" }), {
      "mcp-protocol-version": "1999-01-01",
    });
    expect(badVersion.status).toBe(400);
    expect((await badVersion.json<{ error: { code: number } }>()).error.code).toBe(-32000);
  });

  it("answers GET and DELETE with 405 in the gateway's error shape, and the SDK client takes that as no SSE stream", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools"]);
    for (const method of ["GET", "DELETE"]) {
      const response = await call("/mcp", { method, headers: bearer(key, { accept: "text/event-stream" }) });
      expect(response.headers.get("allow")).toBe("POST");
      await expectError(response, 405, "method_not_allowed");
    }
    // initialize, notifications/initialized (202), then the client's optional GET for an SSE stream.
    const { client, sent } = await connect(key);
    let errors = 0;
    client.onerror = () => (errors += 1);
    await eventually(async () => expect(sent).toEqual(["POST 200", "POST 202", "GET 405"]));
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    expect(errors).toBe(0);
    await client.close();
  });

  it("refuses bodies that are not JSON, batches of requests, a wrong Accept, and bodies over the limit", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["tools"]);

    const notJson = await rawPost(key, "{not json");
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get("x-request-id")).toBeTruthy();
    const parseError = await notJson.json<{ jsonrpc: string; id: null; error: { code: number; data: unknown } }>();
    expect(parseError).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: ErrorCode.ParseError } });
    expect(parseError.error.data).toEqual({ requestId: notJson.headers.get("x-request-id") });

    const batch = await rawPost(
      key,
      JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "tools/list" },
        { jsonrpc: "2.0", id: 2, method: "tools/list" },
      ]),
    );
    expect(batch.status).toBe(400);
    expect((await batch.json<{ error: { code: number } }>()).error.code).toBe(ErrorCode.InvalidRequest);

    const jsonOnly = await rawPost(key, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }), {
      accept: "text/html",
    });
    expect(jsonOnly.status).toBe(406);

    const huge = await rawPost(
      key,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", pad: "x".repeat(1_100_000) }),
    );
    await expectError(huge, 413, "payload_too_large");
  });
});
