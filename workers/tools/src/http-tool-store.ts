/**
 * The SQL of one tenant's HTTP tools (D1 table http_tools, see db-schema.ts). Every statement is
 * bound to the store's tenant id, so a store can only ever read or change its own tenant's rows.
 * The per-tenant limit is checked in the same statement as the insert, so concurrent creates
 * cannot pass it.
 */
import { ensureSchema } from "./db-schema";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface StoredHttpTool {
  name: string;
  description: string;
  parametersJson: string;
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  auth: { type: "bearer" | "header"; header: string | null } | null;
  /** The AES-GCM sealed secret (secrets.ts); null when the tool has no auth. */
  secretSealed: string | null;
  timeoutMs: number;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  name: string;
  description: string;
  parameters_json: string;
  url: string;
  method: HttpMethod;
  headers_json: string;
  auth_type: "bearer" | "header" | null;
  auth_header: string | null;
  secret_sealed: string | null;
  timeout_ms: number;
  created_at: string;
  updated_at: string;
}

const COLUMNS =
  "name, description, parameters_json, url, method, headers_json, auth_type, auth_header, secret_sealed, timeout_ms, created_at, updated_at";

function fromRow(row: Row): StoredHttpTool {
  return {
    name: row.name,
    description: row.description,
    parametersJson: row.parameters_json,
    url: row.url,
    method: row.method,
    headers: JSON.parse(row.headers_json) as Record<string, string>,
    auth: row.auth_type ? { type: row.auth_type, header: row.auth_header } : null,
    secretSealed: row.secret_sealed,
    timeoutMs: row.timeout_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The values of a tool's columns after the tenant id, in COLUMNS order. */
function valuesOf(tool: StoredHttpTool): unknown[] {
  return [
    tool.name,
    tool.description,
    tool.parametersJson,
    tool.url,
    tool.method,
    JSON.stringify(tool.headers),
    tool.auth?.type ?? null,
    tool.auth?.header ?? null,
    tool.secretSealed,
    tool.timeoutMs,
    tool.createdAt,
    tool.updatedAt,
  ];
}

export type InsertOutcome = "inserted" | "exists" | "limit";

export class HttpToolStore {
  readonly #db: D1Database;
  readonly #tenantId: string;

  constructor(db: D1Database, tenantId: string) {
    this.#db = db;
    this.#tenantId = tenantId;
  }

  async get(name: string): Promise<StoredHttpTool | null> {
    await ensureSchema(this.#db);
    const row = await this.#db
      .prepare(`SELECT ${COLUMNS} FROM http_tools WHERE tenant_id = ? AND name = ?`)
      .bind(this.#tenantId, name)
      .first<Row>();
    return row ? fromRow(row) : null;
  }

  /** Every HTTP tool of the tenant, by name. */
  async list(): Promise<StoredHttpTool[]> {
    await ensureSchema(this.#db);
    const { results } = await this.#db
      .prepare(`SELECT ${COLUMNS} FROM http_tools WHERE tenant_id = ? ORDER BY name`)
      .bind(this.#tenantId)
      .all<Row>();
    return results.map(fromRow);
  }

  /** Inserts a new tool unless the name is taken or the tenant already has `limit` tools. */
  async insert(tool: StoredHttpTool, limit: number): Promise<InsertOutcome> {
    await ensureSchema(this.#db);
    const placeholders = Array.from({ length: 13 }, () => "?").join(", ");
    const result = await this.#db
      .prepare(
        `INSERT INTO http_tools (tenant_id, ${COLUMNS})
         SELECT ${placeholders} WHERE (SELECT COUNT(*) FROM http_tools WHERE tenant_id = ?) < ?
         ON CONFLICT (tenant_id, name) DO NOTHING`,
      )
      .bind(this.#tenantId, ...valuesOf(tool), this.#tenantId, limit)
      .run();
    if (result.meta.changes > 0) return "inserted";
    return (await this.get(tool.name)) ? "exists" : "limit";
  }

  /** Replaces an existing tool's definition (its createdAt kept); false when there is none. */
  async update(tool: StoredHttpTool): Promise<boolean> {
    await ensureSchema(this.#db);
    const result = await this.#db
      .prepare(
        `UPDATE http_tools SET description = ?, parameters_json = ?, url = ?, method = ?, headers_json = ?,
           auth_type = ?, auth_header = ?, secret_sealed = ?, timeout_ms = ?, updated_at = ?
         WHERE tenant_id = ? AND name = ?`,
      )
      .bind(
        tool.description,
        tool.parametersJson,
        tool.url,
        tool.method,
        JSON.stringify(tool.headers),
        tool.auth?.type ?? null,
        tool.auth?.header ?? null,
        tool.secretSealed,
        tool.timeoutMs,
        tool.updatedAt,
        this.#tenantId,
        tool.name,
      )
      .run();
    return result.meta.changes > 0;
  }

  async remove(name: string): Promise<boolean> {
    await ensureSchema(this.#db);
    const result = await this.#db
      .prepare("DELETE FROM http_tools WHERE tenant_id = ? AND name = ?")
      .bind(this.#tenantId, name)
      .run();
    return result.meta.changes > 0;
  }
}
