/**
 * `POST /mcp`: the platform as an MCP server over Streamable HTTP (the MCP SDK's web-standard
 * transport), for the tools this API key may call (docs/mcp.md).
 *
 * Stateless: every POST gets its own SDK Server and transport, and no `Mcp-Session-Id` is issued,
 * so nothing outlives the request and no Durable Object holds sessions. Each POST is authenticated
 * (`tools` scope, the tenant's `features.tools`) and admitted against the key's rate limit like any
 * other request; tool calls go through the tools worker, which checks the allow-list and audits.
 * Responses are JSON, not SSE: one request, one response, no server-to-client messages to stream.
 *
 * Two kinds of errors, by layer: what the gateway refuses before MCP is involved (key, scope,
 * feature, rate limit, body size, GET/DELETE) has the gateway's one error shape and request id;
 * what is wrong with the MCP exchange itself (not JSON, not JSON-RPC, wrong Accept or protocol
 * version, unknown tool) is a JSON-RPC error, as MCP clients expect.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { configOf } from "../config";
import { readLimited } from "../http/body";
import { HttpError } from "../http/errors";
import { mcpServer } from "../mcp/server";
import { requireFeature } from "./chat";
import { type Handler, tenantRoute } from "./handler";

function jsonRpcError(status: number, code: number, message: string, requestId: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message, data: { requestId } }, id: null }, { status });
}

/** The body as JSON, or undefined when it is not UTF-8 JSON. */
function parsed(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** How many JSON-RPC requests (not notifications or responses) a message or batch holds. */
function requestCount(message: unknown): number {
  const messages = Array.isArray(message) ? message : [message];
  return messages.filter((m) => typeof m === "object" && m !== null && "method" in m && "id" in m).length;
}

const post = tenantRoute("tools", async ({ request, env, tenant, state }) => {
  requireFeature(tenant.config, "tools");
  const message = parsed(await readLimited(request, configOf(env).MAX_BODY_BYTES));
  if (message === undefined) {
    return jsonRpcError(400, ErrorCode.ParseError, "Parse error: the body is not UTF-8 JSON", state.requestId);
  }
  // One request per POST, so each is admitted (and limited) on its own: a batch of 100 tools/call
  // would otherwise pass as one request. Batching left the protocol in revision 2025-06-18.
  if (requestCount(message) > 1) {
    return jsonRpcError(
      400,
      ErrorCode.InvalidRequest,
      "Invalid Request: send one JSON-RPC request per POST (batches of requests are not accepted)",
      state.requestId,
    );
  }
  const server = mcpServer(env, tenant);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request, { parsedBody: message });
  } finally {
    await server.close();
  }
});

export const mcp: Handler = (request, ...args) => {
  if (request.method === "POST") return post(request, ...args);
  // No standalone SSE stream to GET and no session to DELETE: the spec's answer is 405.
  throw new HttpError(
    "method_not_allowed",
    `${request.method} is not allowed on /mcp: this MCP server is stateless (no SSE stream, no sessions); allowed: POST`,
    { allowed: ["POST"] },
    { allow: "POST" },
  );
};
