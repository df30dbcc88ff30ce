/**
 * Tools through the gateway, with the real tools, chat and rag workers beside it and a real HTTP
 * server on 127.0.0.1 for tenant-defined tools (test/setup/tool-server.ts): the registry routes,
 * deny-by-default (tenant feature, key scope, key allow-list), tenant isolation, the audit, and
 * the tool loop of POST /v1/chat (events, commit, step bound, timeouts, aborts).
 *
 * The local model calls a tool when the user message names it, with the JSON object after the
 * name as arguments (shared/ai/src/providers/local.ts); `local/tool-loop` calls one every time.
 */
import { describe, expect, inject, it } from "vitest";
import type { ChatTurnReply, MessageRecord, Page, ToolExecutionRecord } from "@crispy/contracts";
import { bearer, call, createKey, eventually, expectError, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const port = inject("toolServerPort");
const json = (key: string) => bearer(key, { "content-type": "application/json" });

function toolsTenant(overrides: Parameters<typeof registerTenant>[0] = {}) {
  return registerTenant({ features: { tools: true }, ...overrides });
}

async function post(path: string, key: string, body: unknown, method = "POST"): Promise<Response> {
  return call(path, { method, headers: json(key), body: JSON.stringify(body) });
}

function weatherTool(overrides: Record<string, unknown> = {}) {
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
    ...overrides,
  };
}

async function history(key: string, sessionId: string): Promise<MessageRecord[]> {
  const response = await call(`/v1/sessions/${sessionId}?limit=100`, { headers: bearer(key) });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json<Page<MessageRecord>>()).items;
}

describe("the tool registry", () => {
  it("lists the built-ins and the tenant's HTTP tools, never a secret; tenant B sees none of A's", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    const created = await post("/v1/tools", admin, weatherTool());
    expect(created.status, await created.clone().text()).toBe(201);
    const tool = await created.json<Record<string, unknown>>();
    expect(JSON.stringify(tool)).not.toContain("s3cret");
    expect(tool).toMatchObject({ name: "weather", kind: "http", http: { auth: { type: "bearer" } } });

    const listed = await call("/v1/tools", { headers: bearer(admin) });
    const { tools } = await listed.json<{ tools: Array<{ name: string; parameters: unknown }> }>();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["search_documents", "current_time", "weather"]));
    expect(tools.find((t) => t.name === "weather")!.parameters).toMatchObject({ required: ["city"] });
    expect(JSON.stringify(tools)).not.toContain("s3cret");

    const { key: other } = await createKey(b.id, ["tools", "admin"]);
    const seen = await (await call("/v1/tools", { headers: bearer(other) })).json<{ tools: Array<{ name: string }> }>();
    expect(seen.tools.map((t) => t.name)).not.toContain("weather");
    await expectError(await post("/v1/tools/weather/execute", other, { input: { city: "Oslo" } }), 404, "not_found");
    await expectError(await call("/v1/tools/weather", { method: "DELETE", headers: bearer(other) }), 404, "not_found");
  });

  it("runs an HTTP tool with its secret, and audits it for its tenant only", async () => {
    const a = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    expect((await post("/v1/tools", admin, weatherTool())).status).toBe(201);
    const response = await post("/tools/exec", admin, { name: "weather", input: { city: "Lisbon" } });
    expect(response.status, await response.clone().text()).toBe(200);
    const run = await response.json<{ status: string; output: Record<string, unknown>; executionId: string }>();
    expect(run.status).toBe("ok");
    expect(run.output).toEqual({ city: "Lisbon", tempC: 21, auth: "Bearer s3cret-weather-token" });

    const audit = await (await call("/v1/tools/executions", { headers: bearer(admin) })).json<
      Page<ToolExecutionRecord>
    >();
    expect(audit.items[0]).toMatchObject({ id: run.executionId, tool: "weather", status: "ok", caller: "api" });
    expect(audit.items[0]!.inputDigest).toMatch(/^[0-9a-f]{64}$/);

    const b = toolsTenant();
    const { key: other } = await createKey(b.id, ["tools"]);
    const theirs = await (await call("/v1/tools/executions", { headers: bearer(other) })).json<
      Page<ToolExecutionRecord>
    >();
    expect(theirs.items).toEqual([]);
  });

  it("is deny by default: tenant feature off, no tools scope, no admin scope, outside the allow-list", async () => {
    const off = registerTenant({ features: { tools: false } });
    const { key: offKey } = await createKey(off.id, ["tools", "admin"]);
    await expectError(await call("/v1/tools", { headers: bearer(offKey) }), 403, "forbidden");

    const a = toolsTenant();
    const { key: chatOnly } = await createKey(a.id, ["chat"]);
    await expectError(await call("/v1/tools", { headers: bearer(chatOnly) }), 403, "forbidden");
    await expectError(await post("/tools/exec", chatOnly, { name: "current_time" }), 403, "forbidden");

    const { key: user } = await createKey(a.id, ["tools"]);
    await expectError(await post("/v1/tools", user, weatherTool()), 403, "forbidden");

    const { key: narrow } = await createKey(a.id, ["tools"], { tools: ["current_time"] });
    const { tools } = await (await call("/v1/tools", { headers: bearer(narrow) })).json<{
      tools: Array<{ name: string }>;
    }>();
    expect(tools.map((t) => t.name)).toEqual(["current_time"]);
    const denied = await expectError(await post("/tools/exec", narrow, { name: "file_list" }), 403, "forbidden");
    expect(denied.message).toContain("file_list");
    expect((await post("/tools/exec", narrow, { name: "current_time", input: {} })).status).toBe(200);
  });

  it("refuses input that breaks the tool's schema, naming the field, and bodies that break ours", async () => {
    const a = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    expect((await post("/v1/tools", admin, weatherTool())).status).toBe(201);
    const error = await expectError(
      await post("/v1/tools/weather/execute", admin, { input: { city: 42 } }),
      400,
      "validation_failed",
    );
    expect(error.message).toContain("city");
    const bad = await expectError(
      await post("/v1/tools", admin, weatherTool({ name: "w2", parameters: { type: "array" } })),
      400,
      "validation_failed",
    );
    expect(bad.message).toContain("parameters");
    await expectError(await post("/v1/tools", admin, weatherTool()), 409, "conflict");
  });

  it("refuses HTTP tools aimed at private, link-local or metadata addresses", async () => {
    const a = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    for (const url of ["https://10.0.0.8/x", "https://169.254.169.254/latest/meta-data", "https://[::1]/x"]) {
      const response = await post("/v1/tools", admin, weatherTool({ name: "private", url }));
      expect(response.status, `${url}: ${await response.clone().text()}`).toBe(400);
    }
  });

  it("replaces and deletes an HTTP tool (PUT creates it when missing)", async () => {
    const a = toolsTenant();
    const { key: admin } = await createKey(a.id, ["tools", "admin"]);
    const { name: _name, ...withoutName } = weatherTool();
    const put = await post("/v1/tools/weather", admin, withoutName, "PUT");
    expect(put.status, await put.clone().text()).toBe(201);
    const again = await post("/v1/tools/weather", admin, { ...withoutName, description: "v2" }, "PUT");
    expect(again.status).toBe(200);
    expect((await again.json<{ description: string }>()).description).toBe("v2");
    const deleted = await call("/v1/tools/weather", { method: "DELETE", headers: bearer(admin) });
    expect(deleted.status).toBe(200);
    await expectError(await post("/tools/exec", admin, { name: "weather", input: { city: "x" } }), 404, "not_found");
  });
});

describe("the tool loop of POST /v1/chat", () => {
  it("streams tool_call and tool_result, then the answer, and commits the whole turn at once", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools", "admin"]);
    expect((await post("/v1/tools", key, weatherTool())).status).toBe(201);
    const response = await post("/v1/chat", key, { message: 'What is the weather? weather {"city":"Porto"}' });
    expect(response.status).toBe(200);
    const sessionId = response.headers.get("x-session-id")!;
    const events = await readEvents(response);
    const names = events.map((e) => e.event);
    expect(names.indexOf("tool_call")).toBeGreaterThanOrEqual(0);
    expect(names.indexOf("tool_result")).toBeGreaterThan(names.indexOf("tool_call"));
    expect(names.at(-1)).toBe("done");
    const toolCall = JSON.parse(events.find((e) => e.event === "tool_call")!.data) as Record<string, string>;
    expect(toolCall).toMatchObject({ name: "weather" });
    expect(JSON.parse(toolCall.arguments!)).toEqual({ city: "Porto" });
    const result = JSON.parse(events.find((e) => e.event === "tool_result")!.data) as Record<string, unknown>;
    expect(result).toMatchObject({ id: toolCall.id, name: "weather", status: "ok" });
    expect(String(result.output)).toContain("Porto");

    const messages = await history(key, sessionId);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(new Set(messages.map((m) => m.turnId)).size).toBe(1);
    expect(messages[1]!.toolCalls?.[0]).toMatchObject({ id: toolCall.id, name: "weather" });
    expect(messages[2]!.toolCallId).toBe(toolCall.id);
    expect(messages[3]!.content.length).toBeGreaterThan(0);

    const audit = await (await call("/v1/tools/executions", { headers: bearer(key) })).json<
      Page<ToolExecutionRecord>
    >();
    expect(audit.items[0]).toMatchObject({ tool: "weather", caller: "chat", sessionId, status: "ok" });
  });

  it("a JSON turn reports the tools it ran", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools"]);
    const response = await post("/v1/chat", key, { message: 'current_time {"timezone":"UTC"}', stream: false });
    expect(response.status, await response.clone().text()).toBe(200);
    const reply = await response.json<ChatTurnReply>();
    expect(reply.tools).toHaveLength(1);
    expect(reply.tools![0]).toMatchObject({ name: "current_time", status: "ok" });
    expect(reply.reply.length).toBeGreaterThan(0);
  });

  it("hands a failing tool's error to the model instead of failing the turn", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools"]);
    const reply = await (
      await post("/v1/chat", key, { message: 'file_read {"path":"missing.txt"}', stream: false })
    ).json<ChatTurnReply>();
    expect(reply.tools![0]).toMatchObject({ name: "file_read", status: "error" });
    const invalid = await (
      await post("/v1/chat", key, { message: 'current_time {"timezone":5}', stream: false })
    ).json<ChatTurnReply>();
    expect(invalid.tools![0]).toMatchObject({ name: "current_time", status: "invalid" });
    expect(invalid.reply.length).toBeGreaterThan(0);
  });

  it("cuts a slow HTTP tool at its timeout and the turn reports it", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools", "admin"]);
    const slow = weatherTool({ name: "slow", url: `http://127.0.0.1:${port}/slow`, timeoutMs: 300 });
    expect((await post("/v1/tools", key, slow)).status).toBe(201);
    const started = Date.now();
    const reply = await (
      await post("/v1/chat", key, { message: 'slow {"city":"Faro"}', stream: false })
    ).json<ChatTurnReply>();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(reply.tools![0]).toMatchObject({ name: "slow", status: "timeout" });
    expect(reply.tools![0]!.durationMs).toBeGreaterThanOrEqual(250);
    expect(reply.tools![0]!.durationMs).toBeLessThan(2_000);
  });

  it("stops at the tenant's step bound and makes the model answer", async () => {
    const a = toolsTenant({ tools: { maxSteps: 2 } });
    const { key } = await createKey(a.id, ["chat", "tools"]);
    const response = await post("/v1/chat", key, { message: "what time is it", model: "local/tool-loop" });
    const sessionId = response.headers.get("x-session-id")!;
    const events = await readEvents(response);
    expect(events.filter((e) => e.event === "tool_call")).toHaveLength(2);
    expect(events.at(-1)!.event).toBe("done");
    const roles = (await history(key, sessionId)).map((m) => m.role);
    expect(roles).toEqual(["user", "assistant", "tool", "assistant", "tool", "assistant"]);
  });

  it("offers no tools without the tools scope, or with tools: false", async () => {
    const a = toolsTenant();
    const { key: chatOnly } = await createKey(a.id, ["chat"]);
    const plain = await (
      await post("/v1/chat", chatOnly, { message: 'current_time {"timezone":"UTC"}', stream: false })
    ).json<ChatTurnReply>();
    expect(plain.tools).toBeUndefined();
    const { key } = await createKey(a.id, ["chat", "tools"]);
    const off = await (
      await post("/v1/chat", key, { message: 'current_time {"timezone":"UTC"}', stream: false, tools: false })
    ).json<ChatTurnReply>();
    expect(off.tools).toBeUndefined();
  });

  it("a stream abandoned during a tool call leaves no half turn", async () => {
    const a = toolsTenant();
    const { key } = await createKey(a.id, ["chat", "tools", "admin"]);
    const slow = weatherTool({ name: "slow", url: `http://127.0.0.1:${port}/slow`, timeoutMs: 2_000 });
    expect((await post("/v1/tools", key, slow)).status).toBe(201);
    const first = await (await post("/v1/chat", key, { message: "hello", stream: false })).json<ChatTurnReply>();
    const response = await post("/v1/chat", key, { message: 'slow {"city":"Braga"}', sessionId: first.sessionId });
    const events = await readEvents(response, (event) => event.event === "tool_call");
    expect(events.at(-1)!.event).toBe("tool_call");
    // Well past the tool's timeout and the model's answer: nothing of the abandoned turn is kept.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await eventually(async () => {
      expect((await history(key, first.sessionId)).map((m) => m.role)).toEqual(["user", "assistant"]);
    });
  });
});
