/**
 * A tenant's remote MCP servers, a tool source: `GET /v1/mcp-servers` (scope `tools`; a key with
 * a tool allow-list sees only servers with a tool in it), `POST /v1/mcp-servers`, `DELETE
 * /v1/mcp-servers/:name` and `POST /v1/mcp-servers/:name/refresh` (scope `admin`). Their tools
 * are in `GET /v1/tools` as `<server>.<tool>` and run through the tool routes.
 *
 * The tools worker owns the servers, talks to them and checks tenant, scope and allow-list
 * itself too; the gateway authenticates and validates the body. A server that cannot be reached
 * is still registered (201) with `lastError` saying why; a refresh that fails answers 200 with
 * the last good tool list and `lastError`. The bearer secret is never returned.
 */
import { type McpServerBody, McpServerBodySchema } from "@crispy/contracts";
import { recordAudit } from "../audit/record";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { HttpError, unwrap } from "../http/errors";
import { pathParam } from "../http/params";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

function serverNameOf(params: Record<string, string | undefined>): string {
  const name = pathParam(params, "name");
  if (name === null) throw new HttpError("not_found", "no such MCP server");
  return name;
}

/** What the audit keeps of a registration: where and how, never the bearer secret. */
function serverAudit(body: McpServerBody): Record<string, unknown> {
  return {
    origin: new URL(body.url).origin,
    auth: body.auth ? "bearer" : null,
    allowTools: body.allowTools ?? null,
    timeoutMs: body.timeoutMs ?? null,
  };
}

export const listMcpServers = tenantRoute("tools", async ({ env, tenant }) => {
  requireFeature(tenant.config, "tools");
  return { servers: unwrap(await env.TOOLS.listMcpServers(tenant)) };
});

export const createMcpServer = tenantRoute("admin", async ({ request, env, ctx, state, tenant }) => {
  requireFeature(tenant.config, "tools");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, McpServerBodySchema);
  const server = unwrap(await env.TOOLS.createMcpServer(tenant, body));
  await recordAudit(env, ctx, state, { action: "mcp_server.created", target: body.name, details: serverAudit(body) });
  return Response.json(server, { status: 201 });
});

export const deleteMcpServer = tenantRoute("admin", async ({ request, env, ctx, state, tenant }) => {
  requireFeature(tenant.config, "tools");
  const name = serverNameOf(request.params);
  const removed = unwrap(await env.TOOLS.removeMcpServer(tenant, name));
  await recordAudit(env, ctx, state, { action: "mcp_server.removed", target: name });
  return removed;
});

export const refreshMcpServer = tenantRoute("admin", async ({ request, env, ctx, state, tenant }) => {
  requireFeature(tenant.config, "tools");
  const name = serverNameOf(request.params);
  const refreshed = unwrap(await env.TOOLS.refreshMcpServer(tenant, name));
  await recordAudit(env, ctx, state, { action: "mcp_server.refreshed", target: name });
  return refreshed;
});
