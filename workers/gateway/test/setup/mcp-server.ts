/**
 * vitest globalSetup: a real MCP server (the SDK's McpServer over its Node Streamable HTTP
 * transport, stateless) on 127.0.0.1 (a free port), which tenants register as a remote tool source
 * in the gateway's tests; the tools worker reaches it through its local-dev loopback exception.
 * Its port is `inject("mcpServerPort")`, the token `/secure/mcp` wants `inject("mcpServerToken")`.
 *
 * - `/mcp`: `echo {text}`, `add {a,b}` (with an output schema, which the tools worker must compile
 *   without code generation), `hang` (never answers), `whoami` (the Authorization header it got)
 * - `/secure/mcp`: the same tools; 401 without `Authorization: Bearer <token>`
 */
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

const TOKEN = "gateway-mcp-test-token-5d21";
let server: Server | undefined;

function demoServer(): McpServer {
  const mcp = new McpServer({ name: "crispy-gateway-test", version: "1.0.0" });
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
  mcp.registerTool(
    "hang",
    { description: "Never answers" },
    (extra) =>
      new Promise<CallToolResult>((resolve) => {
        extra.signal.addEventListener("abort", () => resolve({ content: [{ type: "text", text: "aborted" }] }));
      }),
  );
  mcp.registerTool("whoami", { description: "The Authorization header this server got" }, (extra) => ({
    content: [{ type: "text", text: String(extra.requestInfo?.headers.authorization ?? "(none)") }],
  }));
  return mcp;
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
  const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
  const body = await readBody(request);
  if (path === "/secure/mcp" && request.headers.authorization !== `Bearer ${TOKEN}`) {
    response.writeHead(401, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: "unauthorized" }));
    return;
  }
  if (path !== "/mcp" && path !== "/secure/mcp") {
    response.writeHead(404);
    response.end("not found");
    return;
  }
  const mcp = demoServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  response.on("close", () => {
    void transport.close();
    void mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(request, response, body);
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
  project.provide("mcpServerToken", TOKEN);
}

export async function teardown(): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
