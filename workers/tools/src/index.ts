/**
 * crispy-tools: the tenant's tools — built-ins (search_documents, sessions_list, file_read,
 * file_write, file_list, current_time), tenant-defined HTTP tools and the tools of the tenant's
 * remote MCP servers (`<server>.<tool>`) — their execution and its audit, over RPC only (no
 * public routes; the gateway and chat call it with the resolved TenantContext first). It calls
 * crispy-rag for search_documents; for sessions_list the caller lends a ToolHost, so the mesh
 * stays acyclic.
 *
 * Owns the D1 database crispy-tools (TOOLS_DB: the HTTP tool registry, the MCP servers with their
 * cached tool lists, and the execution audit; schema applied from code on first use,
 * db-schema.ts) and the R2 bucket crispy-tool-files (TOOL_FILES: the file tools' files under
 * `tenants/<tenantId>/files/`). A cron trigger (wrangler.jsonc) refreshes stale MCP tool lists.
 *
 * Invariants:
 * - Deny by default, checked here too: the tenant's `features.tools`, the key's "tools" scope
 *   ("admin" as well to change tools), the key's tool allow-list (a tool outside it is neither
 *   listed nor callable nor changeable: "forbidden").
 * - Every key, row, query and log line carries the tenant id; another tenant's tool, file or audit
 *   row is unreachable ("not_found", or simply absent from a list).
 * - HTTP tools and MCP servers only reach addresses the guard allows (address-guard.ts), each
 *   redirect re-checked; their secrets are AES-GCM sealed at rest and never returned (secrets.ts).
 * - A qualified name (`<server>.<tool>`) can be listed, read and executed, never created,
 *   replaced or removed as an HTTP tool; deleting its server removes it.
 * - Every execute call is audited, refused ones included; refusals are failure values, a tool
 *   that ran and failed is a success value with status "error" or "timeout" (execution.ts).
 * - `eraseTenant` (erase.ts) answers only the erasure context: the tenant's rows in every TOOLS_DB
 *   table with a tenant_id column, then its files.
 */
import {
  MCP_SERVER_NAME_PATTERN,
  TOOL_LIMITS,
  TOOL_NAME_PATTERN,
  TOOL_REF_MESSAGE,
  TOOL_REF_PATTERN,
  decodeCursor,
  encodeCursor,
  fail,
  ok,
  pageOf,
  type EraseReport,
  type EraseRequest,
  type ExecutionsQuery,
  type HttpToolBody,
  type McpServerBody,
  type McpServerSummary,
  type Page,
  type RpcError,
  type RpcResult,
  type TenantContext,
  type ToolCallRequest,
  type ToolExecution,
  type ToolExecutionRecord,
  type ToolHost,
  type ToolSummary,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { InternalEntrypoint } from "@crispy/worker-kit";
import { adminRefusal, mcpAdminRefusal, nameAllowed, outsideAllowList, toolsRefusal } from "./access";
import { AuditStore } from "./audit-store";
import { eraseTenant } from "./erase";
import { executeCall } from "./execution";
import { McpServers, refreshDue, summaryOf } from "./mcp-servers";
import { ToolRegistry, notFound } from "./registry";

export default class ToolsService extends InternalEntrypoint<ToolsEnv> {
  protected readonly worker = "tools";

  /** The tools this key may call: offered built-ins in BUILTIN_TOOLS order, then HTTP tools by name. */
  async list(tenant: TenantContext): Promise<RpcResult<ToolSummary[]>> {
    const refusal = toolsRefusal(tenant);
    if (refusal) return refusal;
    const tools = await new ToolRegistry(this.env, tenant).all();
    return ok(tools.filter((tool) => nameAllowed(tenant, tool.name)));
  }

  /** One tool this key may call (a remote MCP server's as `<server>.<tool>`). */
  async get(tenant: TenantContext, name: string): Promise<RpcResult<ToolSummary>> {
    const refusal = toolsRefusal(tenant) ?? nameRefusal(tenant, name, { qualified: true });
    if (refusal) return refusal;
    const registry = new ToolRegistry(this.env, tenant);
    const resolved = await registry.find(name);
    return resolved ? ok(registry.summary(resolved)) : notFound(name);
  }

  /** Defines a new HTTP tool (conflict when the name exists; at most TOOL_LIMITS.maxHttpTools). */
  async create(tenant: TenantContext, body: HttpToolBody): Promise<RpcResult<ToolSummary>> {
    const refusal = adminRefusal(tenant) ?? nameRefusal(tenant, body?.name);
    if (refusal) return refusal;
    const created = await new ToolRegistry(this.env, tenant).create(body);
    if (created.ok) this.#changed(tenant, "created", created.value.name);
    return created;
  }

  /** Creates or wholly replaces the HTTP tool `name` (a body without `auth` leaves it without a secret). */
  async replace(
    tenant: TenantContext,
    name: string,
    body: HttpToolBody,
  ): Promise<RpcResult<{ tool: ToolSummary; created: boolean }>> {
    const refusal = adminRefusal(tenant) ?? nameRefusal(tenant, name);
    if (refusal) return refusal;
    const replaced = await new ToolRegistry(this.env, tenant).replace(name, body);
    if (replaced.ok) this.#changed(tenant, replaced.value.created ? "created" : "replaced", name);
    return replaced;
  }

  /** Deletes the HTTP tool `name`. */
  async remove(tenant: TenantContext, name: string): Promise<RpcResult<{ deleted: true }>> {
    const refusal = adminRefusal(tenant) ?? nameRefusal(tenant, name);
    if (refusal) return refusal;
    const removed = await new ToolRegistry(this.env, tenant).remove(name);
    if (removed.ok) this.#changed(tenant, "removed", name);
    return removed;
  }

  /** Validates and runs one tool call, and audits it; `host` lends what built-ins need from the caller. */
  async execute(tenant: TenantContext, call: ToolCallRequest, host?: ToolHost): Promise<RpcResult<ToolExecution>> {
    return executeCall(this.env, tenant, call, host ?? undefined);
  }

  /** The tenant's execution audit, newest first, paged (optionally one tool's). */
  async executions(tenant: TenantContext, query: ExecutionsQuery): Promise<RpcResult<Page<ToolExecutionRecord>>> {
    const refusal = toolsRefusal(tenant);
    if (refusal) return refusal;
    const page = pageOf(query, { defaultSize: TOOL_LIMITS.defaultPageSize, maxSize: TOOL_LIMITS.maxPageSize });
    const before = page.cursor === undefined ? null : decodeCursor("executions", page.cursor);
    if (before === null && page.cursor !== undefined) {
      return fail("bad_request", "cursor is not a cursor of this listing", { field: "cursor" });
    }
    const tool = typeof query?.tool === "string" ? query.tool : undefined;
    if (tool !== undefined && !nameAllowed(tenant, tool)) return outsideAllowList(tool);
    const { items, nextBefore } = await new AuditStore(this.env.TOOLS_DB, tenant.tenantId).page({
      before,
      limit: page.limit,
      ...(tool === undefined ? {} : { tool }),
      ...(Array.isArray(tenant.toolAllowList) ? { tools: tenant.toolAllowList } : {}),
    });
    return ok({ items, nextCursor: nextBefore === null ? null : encodeCursor("executions", nextBefore) });
  }

  /** The tenant's remote MCP servers (never a secret), stale tool lists refreshed first; narrowed to the key's allow-list. */
  async listMcpServers(tenant: TenantContext): Promise<RpcResult<McpServerSummary[]>> {
    const refusal = toolsRefusal(tenant);
    if (refusal) return refusal;
    const servers = await new McpServers(this.env, tenant.tenantId, tenant.requestId).all();
    if (!Array.isArray(tenant.toolAllowList)) return ok(servers.map((server) => summaryOf(server)));
    return ok(
      servers
        .map((server) => ({ ...summaryOf(server, (name) => nameAllowed(tenant, name)), skipped: [] }))
        .filter((summary) => summary.tools > 0),
    );
  }

  /** Registers a remote MCP server and lists its tools at once (one it cannot reach is kept, with lastError). */
  async createMcpServer(tenant: TenantContext, body: McpServerBody): Promise<RpcResult<McpServerSummary>> {
    const refusal = mcpAdminRefusal(tenant);
    if (refusal) return refusal;
    const created = await new McpServers(this.env, tenant.tenantId, tenant.requestId).create(body);
    if (!created.ok) return created;
    this.#changed(tenant, "mcp_server_created", created.value.name);
    return ok(summaryOf(created.value));
  }

  /** Removes the MCP server `name`, and with it its tools from the registry. */
  async removeMcpServer(tenant: TenantContext, name: string): Promise<RpcResult<{ deleted: true }>> {
    const refusal = mcpAdminRefusal(tenant) ?? serverNameRefusal(name);
    if (refusal) return refusal;
    if (!(await new McpServers(this.env, tenant.tenantId, tenant.requestId).remove(name))) return serverNotFound(name);
    this.#changed(tenant, "mcp_server_removed", name);
    return ok({ deleted: true });
  }

  /** Lists the MCP server `name`'s tools now; a server that cannot be reached keeps its last list (lastError says why). */
  async refreshMcpServer(tenant: TenantContext, name: string): Promise<RpcResult<McpServerSummary>> {
    const refusal = mcpAdminRefusal(tenant) ?? serverNameRefusal(name);
    if (refusal) return refusal;
    const servers = new McpServers(this.env, tenant.tenantId, tenant.requestId);
    const server = await servers.stored(name);
    return server ? ok(summaryOf(await servers.refresh(server))) : serverNotFound(name);
  }

  /** The cron handler (wrangler.jsonc `triggers.crons`): refreshes stale MCP tool lists across tenants, a bounded batch (see refreshDue). */
  override async scheduled(controller: ScheduledController): Promise<void> {
    const runId = `cron-${crypto.randomUUID()}`;
    const { checked, failed } = await refreshDue(this.env, runId);
    const cron = typeof controller?.cron === "string" ? controller.cron.slice(0, 64) : null;
    log(failed > 0 ? "warn" : "info", "tools.mcp_cron", { tenantId: "-", requestId: runId, cron, checked, failed });
  }

  /** Tenant erasure (the gateway's erasure job only): one batch of the tenant's rows and files, or a count of what is left. */
  async eraseTenant(tenant: TenantContext, request?: EraseRequest): Promise<RpcResult<EraseReport>> {
    return eraseTenant(this.env, tenant, request);
  }

  #changed(tenant: TenantContext, change: string, tool: string): void {
    log("info", `tools.${change}`, { tenantId: tenant.tenantId, requestId: tenant.requestId, tool });
  }
}

/**
 * A tool name that is not one (bad_request), or outside the key's allow-list (forbidden), as a
 * refusal; null when the name may be used. `qualified`: a remote MCP tool's `<server>.<tool>` is
 * a name too (to read or run a tool, never to create, replace or remove an HTTP tool).
 */
function nameRefusal(
  tenant: TenantContext,
  name: unknown,
  options: { qualified: boolean } = { qualified: false },
): { ok: false; error: RpcError } | null {
  if (typeof name !== "string" || !(options.qualified ? TOOL_REF_PATTERN : TOOL_NAME_PATTERN).test(name)) {
    const rule = options.qualified ? TOOL_REF_MESSAGE : "must be 1-64 characters of A-Z a-z 0-9 _ -";
    return fail("bad_request", `name ${rule}`, { field: "name" });
  }
  return nameAllowed(tenant, name) ? null : outsideAllowList(name);
}

function serverNameRefusal(name: unknown): { ok: false; error: RpcError } | null {
  if (typeof name === "string" && MCP_SERVER_NAME_PATTERN.test(name)) return null;
  return fail("bad_request", "name must be 1-32 characters of a-z 0-9 - (an MCP server's name)", { field: "name" });
}

function serverNotFound(name: string): { ok: false; error: RpcError } {
  return fail("not_found", `MCP server "${name}" does not exist`);
}
