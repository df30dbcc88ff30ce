/**
 * vitest globalSetup: real MCP servers (the SDK's McpServer over its Node Streamable HTTP
 * transport) on 127.0.0.1 (a free port), for the remote MCP server tests, which reach them through
 * the tools worker's local-dev loopback exception. The port is `inject("mcpServerPort")`, the
 * bearer token `/secure/mcp` wants `inject("mcpServerToken")`.
 *
 * - `/mcp` (SSE responses) and `/mcp-json` (JSON responses), stateless: the demo tools —
 *   `echo {text}`, `add {a,b}` (with an output schema and structured content), `fail` (isError),
 *   `hang` (never answers), `big {bytes}` (that much text), `whoami` (the Authorization header it
 *   got), and two that cannot be registry entries: `bad name` (a space) and a 60-character name
 * - `/secure/mcp`: answers 401 without `Authorization: Bearer <token>`; tools: `whoami`
 * - `/stateful/mcp`: the demo tools in a stateful server (session ids, DELETE ends a session);
 *   `/stateful/sessions` answers how many sessions are open
 * - `/mutable/<key>/mcp`: tools named by `POST /mutable/<key>/tools ["a","b"]` (default
 *   `["first"]`), each echoing `{text}` — for refreshes that see a changed list
 * - `/redirect-same/mcp`: 307 to `/mcp` (same origin); `/redirect-private/mcp`: 307 to
 *   http://169.254.169.254/mcp
 * - `/silent/mcp`: accepts the request and never answers
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { TestProject } from "vitest/node";
import { z } from "zod";

declare module "vitest" {
  export interface ProvidedContext {
    mcpServerPort: number;
    mcpServerToken: string;
  }
}

const MCP_TEST_TOKEN = "mcp-test-bearer-7f3a91";
const LONG_TOOL_NAME = "t".repeat(60);

let server: Server | undefined;
const mutable = new Map<string, string[]>();
const sessions = new Map<string, StreamableHTTPServerTransport>();

function demoServer(): McpServer {
  const mcp = new McpServer({ name: "crispy-test-demo", version: "1.0.0" });
  mcp.registerTool(
    "echo",
    { description: "Echoes the text it is given", inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  mcp.registerTool(
    "add",
    {
      description: "Adds two numbers",
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  mcp.registerTool("fail", { description: "Always fails" }, () => ({
    content: [{ type: "text", text: "the tool failed on purpose" }],
    isError: true,
  }));
  mcp.registerTool(
    "hang",
    { description: "Never answers" },
    (extra) =>
      new Promise<CallToolResult>((resolve) => {
        extra.signal.addEventListener("abort", () => resolve({ content: [{ type: "text", text: "aborted" }] }));
      }),
  );
  mcp.registerTool(
    "big",
    { description: "Answers with that many bytes of text", inputSchema: { bytes: z.number().int().min(1) } },
    ({ bytes }) => ({ content: [{ type: "text", text: "x".repeat(bytes) }] }),
  );
  mcp.registerTool("whoami", { description: "The Authorization header this server got" }, (extra) => ({
    content: [{ type: "text", text: String(extra.requestInfo?.headers.authorization ?? "(none)") }],
  }));
  // The SDK warns about this name on every registration (once per request here); not worth the noise.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    mcp.registerTool("bad name", { description: "A name no registry can use" }, () => ({ content: [] }));
  } finally {
    console.warn = warn;
  }
  mcp.registerTool(LONG_TOOL_NAME, { description: "Too long once qualified" }, () => ({ content: [] }));
  return mcp;
}

function secureServer(): McpServer {
  const mcp = new McpServer({ name: "crispy-test-secure", version: "1.0.0" });
  mcp.registerTool("whoami", { description: "The Authorization header this server got" }, (extra) => ({
    content: [{ type: "text", text: String(extra.requestInfo?.headers.authorization ?? "(none)") }],
  }));
  return mcp;
}

function mutableServer(key: string): McpServer {
  const mcp = new McpServer({ name: `crispy-test-mutable-${key}`, version: "1.0.0" });
  for (const name of mutable.get(key) ?? ["first"]) {
    mcp.registerTool(name, { description: `Tool ${name}`, inputSchema: { text: z.string() } }, ({ text }) => ({
      content: [{ type: "text", text: `${name}: ${text}` }],
    }));
  }
  return mcp;
}

/** One request to a fresh stateless server (the SDK's pattern for stateless Streamable HTTP). */
async function stateless(
  mcp: McpServer,
  request: IncomingMessage,
  response: ServerResponse,
  body: unknown,
  json = false,
): Promise<void> {
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: json });
  response.on("close", () => {
    void transport.close();
    void mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(request, response, body);
}

async function stateful(request: IncomingMessage, response: ServerResponse, body: unknown): Promise<void> {
  const id = request.headers["mcp-session-id"];
  const existing = typeof id === "string" ? sessions.get(id) : undefined;
  if (existing) return existing.handleRequest(request, response, body);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sessionId) => {
      sessions.set(sessionId, transport);
    },
  });
  transport.onclose = () => {
    if (transport.sessionId) sessions.delete(transport.sessionId);
  };
  await demoServer().connect(transport);
  await transport.handleRequest(request, response, body);
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = "";
    request.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    request.on("end", () => {
      try {
        resolve(text === "" ? undefined : JSON.parse(text));
      } catch {
        resolve(undefined);
      }
    });
  });
}

async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const body = await readBody(request);
  const path = url.pathname;
  const mutableMatch = /^\/mutable\/([a-z0-9-]+)\/(mcp|tools)$/.exec(path);
  if (mutableMatch) {
    const key = mutableMatch[1]!;
    if (mutableMatch[2] === "tools") {
      mutable.set(key, body as string[]);
      response.end("ok");
      return;
    }
    return stateless(mutableServer(key), request, response, body);
  }
  switch (path) {
    case "/mcp":
      return stateless(demoServer(), request, response, body);
    case "/mcp-json":
      return stateless(demoServer(), request, response, body, true);
    case "/secure/mcp":
      if (request.headers.authorization !== `Bearer ${MCP_TEST_TOKEN}`) {
        response.writeHead(401, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: "unauthorized" }));
        return;
      }
      return stateless(secureServer(), request, response, body);
    case "/stateful/mcp":
      return stateful(request, response, body);
    case "/stateful/sessions":
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ open: sessions.size }));
      return;
    case "/redirect-same/mcp":
      response.writeHead(307, { location: "/mcp" });
      response.end();
      return;
    case "/redirect-private/mcp":
      response.writeHead(307, { location: "http://169.254.169.254/mcp" });
      response.end();
      return;
    case "/silent/mcp":
      return;
    default:
      response.writeHead(404);
      response.end("not found");
  }
}

export async function setup(project: TestProject): Promise<void> {
  server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("MCP test server has no port");
  project.provide("mcpServerPort", address.port);
  project.provide("mcpServerToken", MCP_TEST_TOKEN);
}

export async function teardown(): Promise<void> {
  for (const transport of sessions.values()) await transport.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
