/**
 * Tool routes: `GET /v1/tools` (what this key may call, with schemas), `POST /v1/tools`,
 * `PUT|DELETE /v1/tools/:name` (admin scope: the tenant's HTTP tools), `POST
 * /v1/tools/:name/execute` and the seeds' `POST /tools/exec` (`{ name, input }`), and
 * `GET /v1/tools/executions` (the tenant's audit, newest first, paged).
 *
 * The tools worker owns the registry, the execution and the audit, and checks tenant, scope and
 * allow-list itself too; the gateway authenticates, validates bodies and lends a ToolHost for
 * built-ins whose data the chat worker owns (`sessions_list`). A tool that ran and failed is a 200
 * whose `status` says so (with its executionId for the audit); refusals are 4xx.
 */
import { RpcTarget } from "cloudflare:workers";
import {
  ExecuteToolBodySchema,
  ExecutionsQuerySchema,
  type HttpToolBody,
  HttpToolBodySchema,
  type SessionSummary,
  type TenantContext,
  type ToolExecution,
  ToolExecBodySchema,
  type ToolHost,
  type ToolSummary,
} from "@crispy/contracts";
import { z } from "zod";
import { recordAudit } from "../audit/record";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { HttpError, unwrap } from "../http/errors";
import { pathParam } from "../http/params";
import { readQuery } from "../http/query";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

/** Lends the tools worker the tenant's session list (through the chat worker). */
export class GatewayToolHost extends RpcTarget implements ToolHost {
  readonly #env: GatewayEnv;
  readonly #tenant: TenantContext;

  constructor(env: GatewayEnv, tenant: TenantContext) {
    super();
    this.#env = env;
    this.#tenant = tenant;
  }

  async listSessions(limit: number): Promise<SessionSummary[]> {
    const page = await this.#env.CHAT.listSessions(this.#tenant, { limit });
    if (!page.ok) throw new Error(page.error.message);
    return page.value.items;
  }
}

/** A listed tool as clients read it: the schema as JSON, not as text. */
function published(tool: ToolSummary): Record<string, unknown> {
  const { parametersJson, ...rest } = tool;
  return { ...rest, parameters: JSON.parse(parametersJson) as unknown };
}

function executed(execution: ToolExecution): Record<string, unknown> {
  let output: unknown = execution.output;
  if (execution.status === "ok" && !execution.truncated) {
    try {
      output = JSON.parse(execution.output);
    } catch {
      // plain text
    }
  }
  return { ...execution, output };
}

/** What the audit keeps of a tool definition: never its header values or auth secret, only the URL's origin. */
function toolAudit(body: HttpToolBody): Record<string, unknown> {
  return {
    method: body.method,
    origin: new URL(body.url).origin,
    headers: Object.keys(body.headers),
    auth: body.auth?.type ?? null,
    timeoutMs: body.timeoutMs,
  };
}

function toolNameOf(params: Record<string, string | undefined>): string {
  const name = pathParam(params, "name");
  if (name === null) throw new HttpError("not_found", "no such tool");
  return name;
}

export const listTools = tenantRoute("tools", async ({ env, tenant }) => {
  requireFeature(tenant.config, "tools");
  return { tools: unwrap(await env.TOOLS.list(tenant)).map(published) };
});

export const createTool = tenantRoute("admin", async ({ request, env, ctx, state, tenant }) => {
  requireFeature(tenant.config, "tools");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, HttpToolBodySchema);
  const tool = published(unwrap(await env.TOOLS.create(tenant, body)));
  await recordAudit(env, ctx, state, { action: "tool.created", target: body.name, details: toolAudit(body) });
  return Response.json(tool, { status: 201 });
});

export const replaceTool = tenantRoute("admin", async ({ request, env, ctx, state, tenant }) => {
  requireFeature(tenant.config, "tools");
  const name = toolNameOf(request.params);
  // The body's `name` may be left out: it is the path's.
  const withName = z.preprocess(
    (value) => (typeof value === "object" && value !== null && !("name" in value) ? { ...value, name } : value),
    HttpToolBodySchema,
  );
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, withName);
  if (body.name !== name) {
    throw new HttpError("validation_failed", `name: "${body.name}" differs from the path's "${name}"`);
  }
  const { tool, created } = unwrap(await env.TOOLS.replace(tenant, name, body));
  const action = created ? "tool.created" : "tool.replaced";
  await recordAudit(env, ctx, state, { action, target: name, details: toolAudit(body) });
  return Response.json(published(tool), { status: created ? 201 : 200 });
});

export const deleteTool = tenantRoute("admin", async ({ request, env, ctx, state, tenant }) => {
  requireFeature(tenant.config, "tools");
  const name = toolNameOf(request.params);
  const removed = unwrap(await env.TOOLS.remove(tenant, name));
  await recordAudit(env, ctx, state, { action: "tool.removed", target: name });
  return removed;
});

export const executeTool = tenantRoute("tools", async ({ request, env, tenant }) => {
  requireFeature(tenant.config, "tools");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, ExecuteToolBodySchema);
  return execute(env, tenant, toolNameOf(request.params), body.input, body.sessionId);
});

export const toolExec = tenantRoute("tools", async ({ request, env, tenant }) => {
  requireFeature(tenant.config, "tools");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, ToolExecBodySchema);
  return execute(env, tenant, body.name, body.input, body.sessionId);
});

export const toolExecutions = tenantRoute("tools", async ({ request, env, tenant }) => {
  requireFeature(tenant.config, "tools");
  return unwrap(await env.TOOLS.executions(tenant, readQuery(request, ExecutionsQuerySchema)));
});

async function execute(
  env: GatewayEnv,
  tenant: TenantContext,
  name: string,
  input: Record<string, unknown>,
  sessionId: string | undefined,
): Promise<Record<string, unknown>> {
  const host = new GatewayToolHost(env, tenant);
  const call = { name, inputJson: JSON.stringify(input), caller: "api" as const, ...(sessionId ? { sessionId } : {}) };
  return executed(unwrap(await env.TOOLS.execute(tenant, call, host)));
}
