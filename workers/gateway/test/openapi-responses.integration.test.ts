/**
 * The OpenAPI document's response schemas against real responses: one tenant's whole journey —
 * tenant and mesh, documents, search, chat and sessions, the OpenAI-compatible routes, tools,
 * MCP, usage and audit, and the operator API — where every response must have a status the
 * operation documents, a documented content type, and (JSON) a body valid against the published
 * schema. Request bodies are the document's own examples, so those are checked against the real
 * API too, not only against their schemas.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, call, createKey, OPERATOR_TOKEN, registerTenant } from "./helpers";
import { expectDocumented, type OpenApiDocument, operationAt, servedDocument } from "./openapi-validate";

const CLIENT_IP = { "cf-connecting-ip": "203.0.113.14" };

let doc: OpenApiDocument;
let tenantId: string;
let key: string;

beforeAll(async () => {
  doc = await servedDocument();
  // The documents' examples name acme's embeddings model; this tenant uses the same.
  tenantId = registerTenant({
    features: { tools: true },
    ai: { embeddings: { model: "local/hash-embed-384", dimensions: 384 } },
  }).id;
  key = (await createKey(tenantId, ["chat", "search", "ingest", "tools", "admin"])).key;
});

/** The first request-body example the document gives for an operation. */
function exampleBody(method: string, path: string): unknown {
  const examples = operationAt(doc, method, path).requestBody?.content["application/json"]?.examples ?? {};
  const first = Object.values(examples)[0];
  if (!first) throw new Error(`${method} ${path} has no request example`);
  return first.value;
}

/**
 * Calls `path` (a concrete path) as the router route `route`, with the tenant's key (or `auth`),
 * and checks the response against the document; returns the body.
 */
async function documented<T = Record<string, unknown>>(
  method: string,
  route: string,
  options: { path?: string; body?: unknown; auth?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await call(options.path ?? route, {
    method,
    headers: {
      ...CLIENT_IP,
      ...(options.auth ?? bearer(key)),
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const body = (await expectDocumented(doc, method, route, response.clone())) as T;
  return { status: response.status, body, headers: response.headers };
}

const operator = bearer(OPERATOR_TOKEN);

describe("real responses match the documented schemas", () => {
  it("system and tenant routes", async () => {
    expect((await documented("GET", "/health", { auth: {} })).status).toBe(200);
    expect((await documented("GET", "/v1/tenant")).body.id).toBe(tenantId);
    expect((await documented("GET", "/v1/mesh")).body.ok).toBe(true);
    expect((await documented("GET", "/v1/keys")).status).toBe(200);
    expect((await documented("GET", "/v1/models")).body.object).toBe("list");
    const docs = await documented<string>("GET", "/docs", { auth: {} });
    expect(docs.body).toContain("swagger-ui");
    expect((await documented<string>("GET", "/console", { auth: {} })).status).toBe(200);
  });

  it("documents, jobs and search, with the document's own examples", async () => {
    const ingested = await documented<{ id: string; docId: string; state: string }>("POST", "/v1/documents", {
      path: "/v1/documents?wait=true",
      body: exampleBody("POST", "/v1/documents"),
    });
    expect(ingested.status).toBe(200);
    expect(ingested.body.state).toBe("done");
    expect(ingested.headers.get("location")).toBe(`/v1/ingest/jobs/${ingested.body.id}`);
    await documented("GET", "/v1/ingest/jobs/:jobId", { path: `/v1/ingest/jobs/${ingested.body.id}` });
    const listed = await documented<{ items: unknown[] }>("GET", "/v1/documents");
    expect(listed.body.items).toHaveLength(1);
    await documented("GET", "/v1/documents/:documentId", { path: `/v1/documents/${ingested.body.docId}` });
    const answer = await documented<{ found: boolean; sources: unknown[] }>("POST", "/v1/search", {
      body: exampleBody("POST", "/v1/search"),
    });
    expect(answer.body.found).toBe(true);
    expect(answer.body.sources.length).toBeGreaterThan(0);
    const streamed = await documented<string>("POST", "/v1/search", { body: { query: "refund", stream: true } });
    expect(streamed.body).toContain("event: done");
  });

  it("chat turns and sessions", async () => {
    const turn = await documented<{ sessionId: string; sources?: unknown[] }>("POST", "/v1/chat", {
      body: exampleBody("POST", "/v1/chat"),
    });
    expect(turn.status).toBe(200);
    const sessionPath = `/v1/sessions/${turn.body.sessionId}`;
    const streamed = await documented<string>("POST", "/v1/chat", {
      body: { message: "And in one word?", sessionId: turn.body.sessionId },
    });
    expect(streamed.body).toContain("event: done");
    const sessions = await documented<{ items: Array<{ id: string }> }>("GET", "/v1/sessions");
    expect(sessions.body.items.map((s) => s.id)).toContain(turn.body.sessionId);
    const history = await documented<{ items: unknown[] }>("GET", "/v1/sessions/:sessionId", { path: sessionPath });
    expect(history.body.items.length).toBe(4);
    await documented("GET", "/chat/:sessionId/history", { path: `/chat/${turn.body.sessionId}/history` });
    await documented("POST", "/v1/sessions/:sessionId/reset", { path: `${sessionPath}/reset` });
    await documented("DELETE", "/v1/sessions/:sessionId", { path: sessionPath });
    const gone = await documented<{ error: { code: string } }>("GET", "/v1/sessions/:sessionId", { path: sessionPath });
    expect(gone.status).toBe(404);
    const refused = await documented<{ error: { code: string } }>("POST", "/v1/chat", { body: { message: "" } });
    expect([refused.status, refused.body.error.code]).toEqual([400, "validation_failed"]);
  });

  it("the OpenAI-compatible routes", async () => {
    const completion = await documented<{ object: string }>("POST", "/v1/chat/completions", {
      body: exampleBody("POST", "/v1/chat/completions"),
    });
    expect(completion.body.object).toBe("chat.completion");
    const streamed = await documented<string>("POST", "/v1/chat/completions", {
      body: { messages: [{ role: "user", content: "hi" }], stream: true },
    });
    expect(streamed.body).toContain("data: [DONE]");
    const embedded = await documented<{ data: unknown[] }>("POST", "/v1/embeddings", {
      body: exampleBody("POST", "/v1/embeddings"),
    });
    expect(embedded.body.data).toHaveLength(2);
    const spoken = await call("/v1/audio/speech", {
      method: "POST",
      headers: { ...CLIENT_IP, ...bearer(key), "content-type": "application/json" },
      body: JSON.stringify(exampleBody("POST", "/v1/audio/speech")),
    });
    await expectDocumented(doc, "POST", "/v1/audio/speech", spoken.clone());
    expect(spoken.headers.get("content-type")).toMatch(/^audio\/wav/);
    expect(new TextDecoder().decode((await spoken.arrayBuffer()).slice(0, 4))).toBe("RIFF");
  });

  it("tools, executions and MCP", async () => {
    const tools = await documented<{ tools: Array<{ name: string }> }>("GET", "/v1/tools");
    expect(tools.body.tools.map((t) => t.name)).toContain("current_time");
    const created = await documented<{ name: string }>("POST", "/v1/tools", { body: exampleBody("POST", "/v1/tools") });
    expect(created.status).toBe(201);
    const path = `/v1/tools/${created.body.name}`;
    expect(
      (await documented("PUT", "/v1/tools/:name", { path, body: exampleBody("PUT", "/v1/tools/:name") })).status,
    ).toBe(200);
    await documented("DELETE", "/v1/tools/:name", { path });
    const ran = await documented<{ status: string }>("POST", "/tools/exec", {
      body: exampleBody("POST", "/tools/exec"),
    });
    expect(ran.body.status).toBe("ok");
    await documented("POST", "/v1/tools/:name/execute", {
      path: "/v1/tools/current_time/execute",
      body: { input: {} },
    });
    const executions = await documented<{ items: unknown[] }>("GET", "/v1/tools/executions");
    expect(executions.body.items.length).toBe(2);
    await documented("GET", "/v1/mcp-servers");
    const listed = await documented<{ result: { tools: unknown[] } }>("POST", "/mcp", {
      body: exampleBody("POST", "/mcp"),
      headers: { accept: "application/json, text/event-stream" },
    });
    expect(listed.body.result.tools.length).toBeGreaterThan(0);
    const get = await documented<{ error: { code: string } }>("GET", "/mcp");
    expect(get.status).toBe(405);
  });

  it("the widget: its script, a visitor's session and a visitor's chat turn", async () => {
    const script = await documented<string>("GET", "/widget.js", { auth: {} });
    expect(script.body.length).toBeGreaterThan(1000);
    const site = "https://shop.example";
    const publishable = await documented<{ key: string; kind: string }>("POST", "/admin/tenants/:tenantId/keys", {
      path: `/admin/tenants/${tenantId}/keys`,
      auth: operator,
      body: { kind: "publishable", scopes: ["chat"], origins: [site] },
    });
    expect(publishable.body.kind).toBe("publishable");
    const session = await documented<{ token: string }>("POST", "/v1/widget/session", {
      auth: bearer(publishable.body.key),
      headers: { origin: site },
      body: {},
    });
    expect(session.status).toBe(200);
    const turn = await documented<{ reply: string }>("POST", "/v1/chat", {
      auth: bearer(session.body.token),
      headers: { origin: site },
      body: { message: "Hello from the widget", stream: false },
    });
    expect(turn.status).toBe(200);
    const elsewhere = await documented("GET", "/v1/sessions", {
      auth: bearer(session.body.token),
      headers: { origin: site },
    });
    expect(elsewhere.status).toBe(403);
  });

  it("usage and the audit log", async () => {
    await documented("GET", "/v1/usage");
    await documented("GET", "/v1/usage", { path: "/v1/usage?groupBy=model" });
    const audit = await documented<{ items: Array<{ action: string }> }>("GET", "/v1/audit");
    expect(audit.body.items.map((item) => item.action)).toContain("tool.created");
  });

  it("the operator API", async () => {
    const base = `/admin/tenants/${tenantId}/keys`;
    const created = await documented<{ id: string; key: string }>("POST", "/admin/tenants/:tenantId/keys", {
      path: base,
      auth: operator,
      body: exampleBody("POST", "/admin/tenants/:tenantId/keys"),
    });
    expect(created.status).toBe(201);
    await documented("GET", "/admin/tenants/:tenantId/keys", { path: base, auth: operator });
    const keyPath = `${base}/${created.body.id}`;
    await documented("PATCH", "/admin/tenants/:tenantId/keys/:keyId", {
      path: keyPath,
      auth: operator,
      body: exampleBody("PATCH", "/admin/tenants/:tenantId/keys/:keyId"),
    });
    await documented("DELETE", "/admin/tenants/:tenantId/keys/:keyId", { path: keyPath, auth: operator });
    await documented("GET", "/admin/audit", { path: `/admin/audit?tenant=${tenantId}`, auth: operator });
    await documented("GET", "/admin/usage", { auth: operator });
    const unknown = await documented("GET", "/admin/tenants/:tenantId/keys", {
      path: "/admin/tenants/nope/keys",
      auth: operator,
    });
    expect(unknown.status).toBe(404);

    // Erasure, on a tenant of its own.
    const doomed = registerTenant().id;
    const started = await documented<{ state: string }>("DELETE", "/admin/tenants/:tenantId/data", {
      path: `/admin/tenants/${doomed}/data`,
      auth: operator,
    });
    expect([200, 202]).toContain(started.status);
    await documented("GET", "/admin/tenants/:tenantId/data", { path: `/admin/tenants/${doomed}/data`, auth: operator });
  });
});
