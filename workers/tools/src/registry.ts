/**
 * One tenant's tools as a key sees them: the built-ins its config offers (`tools.builtins`), its
 * HTTP tools (http-tool-store.ts) and the tools of its remote MCP servers, named
 * `<server>.<tool>` (mcp-servers.ts, which refreshes a stale list before it is used); and the
 * checks only this worker can make when an HTTP tool is created or replaced — its URL against the
 * address guard, its `parameters` against the validator, its secret sealed (secrets.ts). The gateway validated the body; tool-body.ts checks its shape
 * again, so a sibling's bug can never store a row the worker could not run.
 *
 * Invariants: a summary never contains a secret; built-in names cannot be taken by HTTP tools, and
 * neither can an MCP tool's (a qualified name has a `.`, which no other tool name may contain).
 */
import {
  TOOL_LIMITS,
  fail,
  ok,
  qualifiedToolName,
  splitQualifiedName,
  type HttpToolBody,
  type RpcError,
  type RpcResult,
  type TenantContext,
  type ToolSummary,
} from "@crispy/contracts";
import { idForMessage } from "@crispy/worker-kit/util";
import { checkToolUrl } from "./address-guard";
import { BUILTINS, type BuiltinTool, builtin, isBuiltinName } from "./builtins";
import { configOf } from "./config";
import { HttpToolStore, type StoredHttpTool } from "./http-tool-store";
import { compileSchema } from "./json-schema";
import type { CachedMcpTool, StoredMcpServer } from "./mcp-server-store";
import { McpServers } from "./mcp-servers";
import { sealSecret, secretKeyFrom } from "./secrets";
import { bodyProblem } from "./tool-body";

export type ResolvedTool =
  | { kind: "builtin"; tool: BuiltinTool }
  | { kind: "http"; tool: StoredHttpTool }
  | { kind: "mcp"; server: StoredMcpServer; tool: CachedMcpTool };

export class ToolRegistry {
  readonly #env: ToolsEnv;
  readonly #tenant: TenantContext;
  readonly #store: HttpToolStore;

  constructor(env: ToolsEnv, tenant: TenantContext) {
    this.#env = env;
    this.#tenant = tenant;
    this.#store = new HttpToolStore(env.TOOLS_DB, tenant.tenantId);
  }

  /**
   * Every tool of the tenant: built-ins in BUILTIN_TOOLS order, then HTTP tools by name, then MCP
   * servers' tools (servers by name, each server's tools in its own order).
   */
  async all(): Promise<ToolSummary[]> {
    const offered = new Set<string>(this.#tenant.config.tools.builtins);
    const builtins = BUILTINS.filter((tool) => offered.has(tool.name)).map((tool) =>
      this.summary({ kind: "builtin", tool }),
    );
    const [httpTools, servers] = await Promise.all([
      this.#store.list(),
      new McpServers(this.#env, this.#tenant.tenantId, this.#tenant.requestId).all(),
    ]);
    const http = httpTools.map((tool) => this.summary({ kind: "http", tool }));
    const mcp = servers.flatMap((server) => server.tools.map((tool) => this.summary({ kind: "mcp", server, tool })));
    return [...builtins, ...http, ...mcp];
  }

  /** The tool named `name`, or null when the tenant has none (a built-in it does not offer included). */
  async find(name: string): Promise<ResolvedTool | null> {
    const qualified = splitQualifiedName(name);
    if (qualified) {
      const server = await new McpServers(this.#env, this.#tenant.tenantId, this.#tenant.requestId).get(
        qualified.server,
      );
      const tool = server?.tools.find((candidate) => candidate.name === qualified.tool);
      return server && tool ? { kind: "mcp", server, tool } : null;
    }
    if (isBuiltinName(name)) {
      return this.#tenant.config.tools.builtins.includes(name) ? { kind: "builtin", tool: builtin(name) } : null;
    }
    const tool = await this.#store.get(name);
    return tool ? { kind: "http", tool } : null;
  }

  summary(resolved: ResolvedTool): ToolSummary {
    if (resolved.kind === "builtin") {
      const { tool } = resolved;
      return {
        name: tool.name,
        description: tool.description,
        parametersJson: JSON.stringify(tool.parameters(this.#tenant)),
        kind: "builtin",
      };
    }
    if (resolved.kind === "mcp") {
      const { server, tool } = resolved;
      return {
        name: qualifiedToolName(server.name, tool.name)!,
        description: tool.description,
        parametersJson: tool.inputSchemaJson,
        kind: "mcp",
        mcp: { server: server.name, tool: tool.name },
      };
    }
    const { tool } = resolved;
    return {
      name: tool.name,
      description: tool.description,
      parametersJson: tool.parametersJson,
      kind: "http",
      http: {
        url: tool.url,
        method: tool.method,
        headers: tool.headers,
        auth: tool.auth,
        timeoutMs: tool.timeoutMs,
      },
      createdAt: tool.createdAt,
      updatedAt: tool.updatedAt,
    };
  }

  async create(body: HttpToolBody): Promise<RpcResult<ToolSummary>> {
    const prepared = await this.#prepare(body);
    if (!prepared.ok) return prepared;
    const outcome = await this.#store.insert(prepared.value, TOOL_LIMITS.maxHttpTools);
    if (outcome === "exists")
      return fail("conflict", `tool "${prepared.value.name}" already exists`, { field: "name" });
    if (outcome === "limit") return this.#limitReached();
    return ok(this.summary({ kind: "http", tool: prepared.value }));
  }

  /** Creates or replaces the whole definition (no `auth` in the body: the tool keeps no secret). */
  async replace(name: string, body: HttpToolBody): Promise<RpcResult<{ tool: ToolSummary; created: boolean }>> {
    if (body?.name !== name) {
      return fail("bad_request", `name: "${idForMessage(body?.name)}" differs from the tool named "${name}"`, {
        field: "name",
      });
    }
    const prepared = await this.#prepare(body);
    if (!prepared.ok) return prepared;
    const existing = await this.#store.get(name);
    if (existing) {
      const tool = { ...prepared.value, createdAt: existing.createdAt };
      if (await this.#store.update(tool)) return ok({ tool: this.summary({ kind: "http", tool }), created: false });
    }
    const outcome = await this.#store.insert(prepared.value, TOOL_LIMITS.maxHttpTools);
    if (outcome === "limit") return this.#limitReached();
    if (outcome === "exists") {
      // Created by a concurrent call since we looked: replace that one.
      const current = await this.#store.get(name);
      const tool = { ...prepared.value, createdAt: current?.createdAt ?? prepared.value.createdAt };
      await this.#store.update(tool);
      return ok({ tool: this.summary({ kind: "http", tool }), created: false });
    }
    return ok({ tool: this.summary({ kind: "http", tool: prepared.value }), created: true });
  }

  async remove(name: string): Promise<RpcResult<{ deleted: true }>> {
    if (isBuiltinName(name)) {
      return fail(
        "bad_request",
        `"${name}" is a built-in tool; a tenant turns built-ins off in its config (tools.builtins)`,
      );
    }
    return (await this.#store.remove(name)) ? ok({ deleted: true }) : notFound(name);
  }

  #limitReached(): { ok: false; error: RpcError } {
    return fail(
      "conflict",
      `tenant "${this.#tenant.tenantId}" already has ${TOOL_LIMITS.maxHttpTools} HTTP tools, the most it may define`,
    );
  }

  /** The row a body becomes, after the checks only this worker can make. */
  async #prepare(body: HttpToolBody): Promise<RpcResult<StoredHttpTool>> {
    const problem = bodyProblem(body);
    if (problem) return fail("bad_request", `${problem.field}: ${problem.message}`, { field: problem.field });
    const { HTTP_TOOLS_LOOPBACK } = configOf(this.#env);
    const address = checkToolUrl(body.url, HTTP_TOOLS_LOOPBACK);
    if (!address.ok) return fail("bad_request", `url: ${address.reason}`, { field: "url" });
    const compiled = compileSchema(body.parameters);
    if (!compiled.ok) {
      return fail("bad_request", `parameters: the JSON Schema cannot be used (${compiled.reason})`, {
        field: "parameters",
      });
    }
    let secretSealed: string | null = null;
    if (body.auth) {
      const key = await secretKeyFrom(configOf(this.#env).TOOLS_SECRET_KEY);
      if (!key.ok) return key;
      secretSealed = await sealSecret(key.value, body.auth.secret, {
        tenantId: this.#tenant.tenantId,
        tool: body.name,
      });
    }
    const now = new Date().toISOString();
    return ok({
      name: body.name,
      description: body.description,
      parametersJson: JSON.stringify(body.parameters),
      url: address.url.href,
      method: body.method,
      headers: body.headers,
      auth: body.auth ? { type: body.auth.type, header: body.auth.type === "header" ? body.auth.header! : null } : null,
      secretSealed,
      timeoutMs: body.timeoutMs,
      createdAt: now,
      updatedAt: now,
    });
  }
}

export function notFound(name: string): { ok: false; error: RpcError } {
  return fail("not_found", `tool "${name.slice(0, 64)}" does not exist`);
}
