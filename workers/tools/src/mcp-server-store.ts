/**
 * The SQL of one tenant's remote MCP servers (D1 table mcp_servers, see db-schema.ts). Every
 * statement of the store is bound to its tenant id, so a store only ever reads or changes its own
 * tenant's rows; the per-tenant limit is checked in the insert itself, so concurrent creates cannot
 * pass it. `dueForRefresh` is the one query across tenants (for the cron): it returns ids only.
 */
import type { McpSkippedTool } from "@crispy/contracts";
import { ensureSchema } from "./db-schema";

/** One remote tool as cached: its own name (the registry name is `<server>.<name>`). */
export interface CachedMcpTool {
  name: string;
  description: string;
  /** Its JSON Schema (an object schema), as JSON text. */
  inputSchemaJson: string;
}

export interface StoredMcpServer {
  name: string;
  url: string;
  description: string | null;
  /** The AES-GCM sealed bearer secret (secrets.ts); null when the server has no auth. */
  secretSealed: string | null;
  allowTools: string[] | null;
  timeoutMs: number;
  tools: CachedMcpTool[];
  skipped: McpSkippedTool[];
  refreshedAt: string | null;
  checkedAt: string | null;
  lastError: string | null;
  createdAt: string;
}

interface Row {
  name: string;
  url: string;
  description: string | null;
  secret_sealed: string | null;
  allow_tools_json: string | null;
  timeout_ms: number;
  tools_json: string;
  skipped_json: string;
  refreshed_at: string | null;
  checked_at: string | null;
  last_error: string | null;
  created_at: string;
}

interface StoredToolJson {
  name: string;
  description: string;
  inputSchema: unknown;
}

const COLUMNS =
  "name, url, description, secret_sealed, allow_tools_json, timeout_ms, tools_json, skipped_json, refreshed_at, checked_at, last_error, created_at";

function fromRow(row: Row): StoredMcpServer {
  return {
    name: row.name,
    url: row.url,
    description: row.description,
    secretSealed: row.secret_sealed,
    allowTools: row.allow_tools_json === null ? null : (JSON.parse(row.allow_tools_json) as string[]),
    timeoutMs: row.timeout_ms,
    tools: (JSON.parse(row.tools_json) as StoredToolJson[]).map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchemaJson: JSON.stringify(tool.inputSchema),
    })),
    skipped: JSON.parse(row.skipped_json) as McpSkippedTool[],
    refreshedAt: row.refreshed_at,
    checkedAt: row.checked_at,
    lastError: row.last_error,
    createdAt: row.created_at,
  };
}

function toolsJson(tools: CachedMcpTool[]): string {
  return JSON.stringify(
    tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      inputSchema: JSON.parse(tool.inputSchemaJson) as unknown,
    })),
  );
}

/** The outcome of one refresh attempt: the new tool list (success), or why it failed. */
export type RefreshRecord =
  | { ok: true; tools: CachedMcpTool[]; skipped: McpSkippedTool[]; at: string }
  | { ok: false; error: string; at: string };

export type InsertOutcome = "inserted" | "exists" | "limit";

export class McpServerStore {
  readonly #db: D1Database;
  readonly #tenantId: string;

  constructor(db: D1Database, tenantId: string) {
    this.#db = db;
    this.#tenantId = tenantId;
  }

  async get(name: string): Promise<StoredMcpServer | null> {
    await ensureSchema(this.#db);
    const row = await this.#db
      .prepare(`SELECT ${COLUMNS} FROM mcp_servers WHERE tenant_id = ? AND name = ?`)
      .bind(this.#tenantId, name)
      .first<Row>();
    return row ? fromRow(row) : null;
  }

  /** Every server of the tenant, by name. */
  async list(): Promise<StoredMcpServer[]> {
    await ensureSchema(this.#db);
    const { results } = await this.#db
      .prepare(`SELECT ${COLUMNS} FROM mcp_servers WHERE tenant_id = ? ORDER BY name`)
      .bind(this.#tenantId)
      .all<Row>();
    return results.map(fromRow);
  }

  /** Inserts a new server unless the name is taken or the tenant already has `limit` servers. */
  async insert(server: StoredMcpServer, limit: number): Promise<InsertOutcome> {
    await ensureSchema(this.#db);
    const result = await this.#db
      .prepare(
        `INSERT INTO mcp_servers (tenant_id, ${COLUMNS})
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE (SELECT COUNT(*) FROM mcp_servers WHERE tenant_id = ?) < ?
         ON CONFLICT (tenant_id, name) DO NOTHING`,
      )
      .bind(
        this.#tenantId,
        server.name,
        server.url,
        server.description,
        server.secretSealed,
        server.allowTools === null ? null : JSON.stringify(server.allowTools),
        server.timeoutMs,
        toolsJson(server.tools),
        JSON.stringify(server.skipped),
        server.refreshedAt,
        server.checkedAt,
        server.lastError,
        server.createdAt,
        this.#tenantId,
        limit,
      )
      .run();
    if (result.meta.changes > 0) return "inserted";
    return (await this.get(server.name)) ? "exists" : "limit";
  }

  /**
   * Records a refresh attempt: a success replaces the cached tools and clears the error; a
   * failure keeps the last good tool list and records why. False when the server is gone.
   */
  async recordRefresh(name: string, record: RefreshRecord): Promise<boolean> {
    await ensureSchema(this.#db);
    const statement = record.ok
      ? this.#db
          .prepare(
            `UPDATE mcp_servers SET tools_json = ?, skipped_json = ?, refreshed_at = ?, checked_at = ?, last_error = NULL
             WHERE tenant_id = ? AND name = ?`,
          )
          .bind(toolsJson(record.tools), JSON.stringify(record.skipped), record.at, record.at, this.#tenantId, name)
      : this.#db
          .prepare("UPDATE mcp_servers SET checked_at = ?, last_error = ? WHERE tenant_id = ? AND name = ?")
          .bind(record.at, record.error, this.#tenantId, name);
    const result = await statement.run();
    return result.meta.changes > 0;
  }

  async remove(name: string): Promise<boolean> {
    await ensureSchema(this.#db);
    const result = await this.#db
      .prepare("DELETE FROM mcp_servers WHERE tenant_id = ? AND name = ?")
      .bind(this.#tenantId, name)
      .run();
    return result.meta.changes > 0;
  }
}

/**
 * Servers of any tenant last checked before `before` (or never), oldest first, at most `limit`:
 * ids only, for the cron to refresh each through its tenant's store.
 */
export async function dueForRefresh(
  db: D1Database,
  before: string,
  limit: number,
): Promise<Array<{ tenantId: string; name: string }>> {
  await ensureSchema(db);
  const { results } = await db
    .prepare(
      `SELECT tenant_id, name FROM mcp_servers WHERE checked_at IS NULL OR checked_at < ?
       ORDER BY checked_at LIMIT ?`,
    )
    .bind(before, limit)
    .all<{ tenant_id: string; name: string }>();
  return results.map((row) => ({ tenantId: row.tenant_id, name: row.name }));
}
