/**
 * One MCP server for one request: the tenant's tools — what this key may call, as the tools
 * worker lists them (built-ins, then the tenant's HTTP tools) — behind `tools/list` and
 * `tools/call`. Calls go to the tools worker like every other tool execution (`caller: "mcp"`),
 * which checks tenant, scope and allow-list again, validates the input and audits the call.
 *
 * The low-level SDK `Server` (not `McpServer`) because the registry's JSON Schemas are published
 * as stored; McpServer wants zod shapes. Its JSON-schema validator (used only for elicitation,
 * which this server never asks for) is the Workers-safe one: the default, Ajv, generates code.
 */
import type { TenantContext, ToolCallRequest } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { HttpError, unwrap, upstreamFailure } from "../http/errors";
import { GatewayToolHost } from "../routes/tools";
import { ProtocolError, callResult, mcpTool, refusal } from "./results";

export const SERVER_INFO = { name: "crispy-enigma", version: "1.0.0" } as const;

/**
 * Runs a handler and turns whatever it throws into a JSON-RPC error with the gateway's error code
 * and the request id in `data` (the SDK would send a bug's raw message as -32603).
 */
async function guarded<T>(tenant: TenantContext, handler: () => Promise<T>): Promise<T> {
  try {
    return await handler();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    const failure = error instanceof HttpError ? error : upstreamFailure(error);
    if (failure) {
      throw new ProtocolError(ErrorCode.InternalError, failure.message, {
        code: failure.code,
        requestId: tenant.requestId,
        ...(failure.headers?.["retry-after"] ? { retryAfterSeconds: Number(failure.headers["retry-after"]) } : {}),
      });
    }
    log("error", "mcp.unhandled_exception", {
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
      message: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    throw new ProtocolError(ErrorCode.InternalError, "internal error; quote the request id when reporting it", {
      code: "internal",
      requestId: tenant.requestId,
    });
  }
}

/** The MCP server of one request, for the authenticated tenant and key. */
export function mcpServer(env: GatewayEnv, tenant: TenantContext): Server {
  const server = new Server(
    { ...SERVER_INFO, title: `Crispy Enigma (${tenant.config.name})` },
    { capabilities: { tools: {} }, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  server.setRequestHandler(ListToolsRequestSchema, () =>
    guarded(tenant, async () => ({ tools: unwrap(await env.TOOLS.list(tenant)).map(mcpTool) })),
  );
  server.setRequestHandler(CallToolRequestSchema, (request) =>
    guarded(tenant, async () => {
      const call: ToolCallRequest = {
        name: request.params.name,
        inputJson: JSON.stringify(request.params.arguments ?? {}),
        caller: "mcp",
      };
      const executed = await env.TOOLS.execute(tenant, call, new GatewayToolHost(env, tenant));
      return executed.ok ? callResult(executed.value) : refusal(executed.error, tenant.requestId);
    }),
  );
  // Client mistakes the transport answers itself (406, 415, a bad protocol version header).
  server.onerror = (error) =>
    log("info", "mcp.protocol_error", {
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
      message: error.message,
    });
  return server;
}
