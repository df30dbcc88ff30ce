/**
 * One tenant's remote MCP servers as a tool source: registering one (its URL through the address
 * guard, its bearer secret sealed), removing it, and keeping its cached tool list fresh — it is
 * refreshed when created, on demand, before use (list, get, execute) once it is older than
 * MCP_LIMITS.refreshTtlMs, and by the cron (`refreshDue`) somewhat before that.
 *
 * A refresh keeps the server's tools that can be registry entries — a TOOL_NAME_PATTERN name
 * whose `<server>.<name>` fits in 64 characters, in the server's `allowTools` when it has one, an
 * object input schema the validator can run, at most MCP_LIMITS.maxToolsPerServer — and lists
 * every other one in `skipped` with its reason: nothing is dropped silently. A failed refresh
 * keeps the last good list and records why (`lastError`).
 *
 * Invariants: a summary never contains the secret; a store only reads its own tenant's rows; the
 * secret is sealed with the tenant id and `mcp-server:<name>` bound in (no HTTP tool can have
 * that name), so it decrypts for this server only.
 */
import {
  MCP_LIMITS,
  TOOL_LIMITS,
  TOOL_NAME_PATTERN,
  fail,
  ok,
  qualifiedToolName,
  type McpServerBody,
  type McpServerSummary,
  type McpSkippedTool,
  type RpcResult,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { idForMessage } from "@crispy/worker-kit/util";
import { checkToolUrl } from "./address-guard";
import { configOf } from "./config";
import { compileSchema } from "./json-schema";
import { mcpBodyProblem } from "./mcp-body";
import { type McpEndpoint, type Tool, listRemoteTools } from "./mcp-client";
import {
  type CachedMcpTool,
  McpServerStore,
  type RefreshRecord,
  type StoredMcpServer,
  dueForRefresh,
} from "./mcp-server-store";
import { type SecretOwner, openSecret, sealSecret, secretKeyFrom } from "./secrets";

/** Skipped tools recorded per refresh (a server listing thousands of bad names is told so once). */
const MAX_SKIPPED = 100;
/** Characters of a skipped tool's name kept in its entry. */
const MAX_SKIPPED_NAME_CHARS = 128;
/** The cron refreshes a server once its list is this old, so the lazy refresh before use rarely has to. */
export const CRON_REFRESH_AFTER_MS = MCP_LIMITS.refreshTtlMs / 2;
/** Servers the cron refreshes per run, and at a time (a Worker has 6 connections open at most). */
export const CRON_BATCH = 50;
const CRON_CONCURRENCY = 5;

export function secretOwner(tenantId: string, server: string): SecretOwner {
  return { tenantId, tool: `mcp-server:${server}` };
}

export class McpServers {
  readonly #env: ToolsEnv;
  readonly #tenantId: string;
  readonly #requestId: string;
  readonly #store: McpServerStore;

  /** `requestId`: the request (or cron run) refreshes are logged under. */
  constructor(env: ToolsEnv, tenantId: string, requestId: string) {
    this.#env = env;
    this.#tenantId = tenantId;
    this.#requestId = requestId;
    this.#store = new McpServerStore(env.TOOLS_DB, tenantId);
  }

  /** Every server of the tenant, by name, each refreshed first when its list is stale. */
  async all(): Promise<StoredMcpServer[]> {
    const servers = await this.#store.list();
    return Promise.all(servers.map((server) => this.#fresh(server)));
  }

  /** The server `name` (refreshed first when stale), or null. */
  async get(name: string): Promise<StoredMcpServer | null> {
    const server = await this.#store.get(name);
    return server ? this.#fresh(server) : null;
  }

  /** The server `name` as stored (never refreshed here), or null. */
  stored(name: string): Promise<StoredMcpServer | null> {
    return this.#store.get(name);
  }

  /**
   * Registers a server and lists its tools at once. A server that cannot be reached (or refuses
   * the secret) is still registered, with `lastError` saying why — it is retried on demand, before
   * use and by the cron; an address the guard refuses is never stored.
   */
  async create(body: McpServerBody): Promise<RpcResult<StoredMcpServer>> {
    const problem = mcpBodyProblem(body);
    if (problem) return fail("bad_request", `${problem.field}: ${problem.message}`, { field: problem.field });
    const address = checkToolUrl(body.url, configOf(this.#env).HTTP_TOOLS_LOOPBACK);
    if (!address.ok) return fail("bad_request", `url: ${address.reason}`, { field: "url" });
    let secretSealed: string | null = null;
    if (body.auth) {
      const key = await secretKeyFrom(configOf(this.#env).TOOLS_SECRET_KEY);
      if (!key.ok) return key;
      secretSealed = await sealSecret(key.value, body.auth.bearer, secretOwner(this.#tenantId, body.name));
    }
    const server: StoredMcpServer = {
      name: body.name,
      url: address.url.href,
      description: body.description ?? null,
      secretSealed,
      allowTools: body.allowTools ?? null,
      timeoutMs: body.timeoutMs ?? MCP_LIMITS.defaultTimeoutMs,
      tools: [],
      skipped: [],
      refreshedAt: null,
      checkedAt: null,
      lastError: null,
      createdAt: new Date().toISOString(),
    };
    const outcome = await this.#store.insert(server, MCP_LIMITS.maxServers);
    if (outcome === "exists") return fail("conflict", `MCP server "${body.name}" already exists`, { field: "name" });
    if (outcome === "limit") {
      return fail(
        "conflict",
        `tenant "${this.#tenantId}" already has ${MCP_LIMITS.maxServers} MCP servers, the most it may register`,
      );
    }
    return ok(await this.refresh(server));
  }

  async remove(name: string): Promise<boolean> {
    return this.#store.remove(name);
  }

  /** Lists `server`'s tools now, records the outcome, and returns the server as stored after it. */
  async refresh(server: StoredMcpServer): Promise<StoredMcpServer> {
    const record = await this.#attempt(server);
    await this.#store.recordRefresh(server.name, record);
    const fields = { tenantId: this.#tenantId, requestId: this.#requestId, server: server.name };
    if (record.ok) {
      log("info", "tools.mcp_refreshed", { ...fields, tools: record.tools.length, skipped: record.skipped.length });
      return {
        ...server,
        tools: record.tools,
        skipped: record.skipped,
        refreshedAt: record.at,
        checkedAt: record.at,
        lastError: null,
      };
    }
    log("warn", "tools.mcp_refresh_failed", { ...fields, reason: record.error });
    return { ...server, checkedAt: record.at, lastError: record.error };
  }

  /**
   * How to reach `server` for one exchange: its stored URL re-checked by the guard (forbidden when
   * it no longer passes), its secret opened (internal when it cannot be).
   */
  async endpoint(server: StoredMcpServer, maxResponseBytes: number): Promise<RpcResult<McpEndpoint>> {
    const config = configOf(this.#env);
    const address = checkToolUrl(server.url, config.HTTP_TOOLS_LOOPBACK);
    if (!address.ok) {
      return fail("forbidden", `MCP server "${server.name}": url ${address.reason}`, { field: "url" });
    }
    let secret: string | null = null;
    if (server.secretSealed !== null) {
      const key = await secretKeyFrom(config.TOOLS_SECRET_KEY);
      if (!key.ok) return key;
      secret = await openSecret(key.value, server.secretSealed, secretOwner(this.#tenantId, server.name));
      if (secret === null) {
        return fail(
          "internal",
          `the stored secret of MCP server "${server.name}" cannot be decrypted (TOOLS_SECRET_KEY changed, or the row was altered); register the server again with its secret`,
        );
      }
    }
    return ok({
      url: address.url.href,
      secret,
      timeoutMs: server.timeoutMs,
      maxResponseBytes,
      loopback: config.HTTP_TOOLS_LOOPBACK,
    });
  }

  #fresh(server: StoredMcpServer): Promise<StoredMcpServer> | StoredMcpServer {
    return isStale(server, Date.now(), MCP_LIMITS.refreshTtlMs) ? this.refresh(server) : server;
  }

  async #attempt(server: StoredMcpServer): Promise<RefreshRecord> {
    const endpoint = await this.endpoint(server, MCP_LIMITS.maxListResponseBytes);
    if (!endpoint.ok) return { ok: false, error: endpoint.error.message, at: new Date().toISOString() };
    const listed = await listRemoteTools(endpoint.value);
    const at = new Date().toISOString();
    if (!listed.ok) return { ok: false, error: `listing its tools failed: ${listed.message}`, at };
    return { ok: true, ...pickTools(server, listed.value.tools, listed.value.more), at };
  }
}

/** A server's summary (never its secret); `visible` narrows its tools to those a key may see. */
export function summaryOf(server: StoredMcpServer, visible: (name: string) => boolean = () => true): McpServerSummary {
  const toolNames = server.tools
    .map((tool) => qualifiedToolName(server.name, tool.name))
    .filter((name): name is string => name !== null && visible(name));
  return {
    name: server.name,
    url: server.url,
    description: server.description,
    hasAuth: server.secretSealed !== null,
    allowTools: server.allowTools,
    timeoutMs: server.timeoutMs,
    tools: toolNames.length,
    toolNames,
    skipped: server.skipped,
    refreshedAt: server.refreshedAt,
    checkedAt: server.checkedAt,
    lastError: server.lastError,
    createdAt: server.createdAt,
  };
}

export function isStale(server: StoredMcpServer, now: number, ttlMs: number): boolean {
  return server.checkedAt === null || now - Date.parse(server.checkedAt) >= ttlMs;
}

/**
 * The cron's work: refreshes servers of any tenant whose list is older than CRON_REFRESH_AFTER_MS
 * (oldest first, at most CRON_BATCH, CRON_CONCURRENCY at a time), logging under `runId`.
 * Returns how many it checked and how many of those failed.
 */
export async function refreshDue(
  env: ToolsEnv,
  runId: string,
  now = Date.now(),
): Promise<{ checked: number; failed: number }> {
  const due = await dueForRefresh(env.TOOLS_DB, new Date(now - CRON_REFRESH_AFTER_MS).toISOString(), CRON_BATCH);
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const { tenantId, name } = due[next++]!;
      const servers = new McpServers(env, tenantId, runId);
      const server = await servers.stored(name);
      if (!server) continue;
      const after = await servers.refresh(server);
      if (after.lastError !== null) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CRON_CONCURRENCY, due.length) }, worker));
  return { checked: due.length, failed };
}

/** The tools of a listing that become registry entries, and every other one with its reason. */
function pickTools(
  server: StoredMcpServer,
  listed: Tool[],
  more: boolean,
): { tools: CachedMcpTool[]; skipped: McpSkippedTool[] } {
  const allowed = server.allowTools === null ? null : new Set(server.allowTools);
  const tools: CachedMcpTool[] = [];
  const skipped: McpSkippedTool[] = [];
  const seen = new Set<string>();
  const skip = (name: string, reason: string) => {
    skipped.push({ name: idForMessage(name, MAX_SKIPPED_NAME_CHARS), reason });
  };
  for (const tool of listed) {
    const name = tool.name;
    if (seen.has(name)) {
      skip(name, "listed twice; the first one is used");
      continue;
    }
    seen.add(name);
    if (!TOOL_NAME_PATTERN.test(name)) {
      skip(name, "its name is not 1-64 characters of A-Z a-z 0-9 _ -");
      continue;
    }
    if (qualifiedToolName(server.name, name) === null) {
      skip(name, `"${server.name}.${name}" would be longer than 64 characters`);
      continue;
    }
    if (allowed && !allowed.has(name)) {
      skip(name, "not in the server's allowTools");
      continue;
    }
    const schemaJson = JSON.stringify(tool.inputSchema);
    if (new TextEncoder().encode(schemaJson).byteLength > TOOL_LIMITS.maxSchemaBytes) {
      skip(name, `its input schema is larger than ${TOOL_LIMITS.maxSchemaBytes} bytes`);
      continue;
    }
    const compiled = compileSchema(tool.inputSchema);
    if (!compiled.ok) {
      skip(name, `its input schema cannot be used (${compiled.reason})`);
      continue;
    }
    if (tools.length >= MCP_LIMITS.maxToolsPerServer) {
      skip(name, `the server lists more than ${MCP_LIMITS.maxToolsPerServer} usable tools; only the first are taken`);
      continue;
    }
    const description = (tool.description ?? tool.title ?? "").trim().slice(0, MCP_LIMITS.maxDescriptionChars);
    tools.push({
      name,
      description: description === "" ? `Tool "${name}" of the MCP server "${server.name}"` : description,
      inputSchemaJson: schemaJson,
    });
  }
  for (const name of allowed ?? []) {
    if (!seen.has(name)) skip(name, "in allowTools, but the server does not list it");
  }
  if (more) {
    skip("…", `the server has more than ${MCP_LIMITS.maxListPages} pages of tools; the rest were not read`);
  }
  if (skipped.length > MAX_SKIPPED) {
    const rest = skipped.length - (MAX_SKIPPED - 1);
    skipped.splice(MAX_SKIPPED - 1, skipped.length, { name: "…", reason: `and ${rest} more tools skipped` });
  }
  return { tools, skipped };
}
