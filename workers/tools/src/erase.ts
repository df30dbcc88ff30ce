/**
 * Tenant erasure for the tools worker (docs/erasure.md): the tenant's rows in every table of
 * TOOLS_DB that has a `tenant_id` column — found in the database itself, so a table a later schema
 * step adds (db-schema.ts) is erased without a change here (today: http_tools, tool_executions,
 * mcp_servers) — then its files in TOOL_FILES (every key under `tenants/<tenantId>/`).
 *
 * Bounded and idempotent: one call deletes at most `batchSize` rows per table (by primary key,
 * from a subquery on the tenant's range) or files, and answers `done: false` while any are left;
 * deleting what is already gone deletes nothing.
 */
import {
  type EraseReport,
  type EraseRequest,
  eraseCallOf,
  ok,
  type RpcResult,
  type StoreCounts,
  type TenantContext,
} from "@crispy/contracts";
import { countObjects, deleteObjectsPage } from "@crispy/worker-kit";
import { ensureSchema } from "./db-schema";

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every R2 key of the tenant starts with this (tenant ids contain no "/"). */
export function tenantFilesPrefix(tenantId: string): string {
  return `tenants/${tenantId}/`;
}

interface TenantTable {
  name: string;
  /** Primary key columns, in key order; empty for a table keyed by rowid only. */
  key: string[];
}

/** The tables of `db` holding tenant rows (a `tenant_id` column), with their primary keys. */
export async function tenantTables(db: D1Database): Promise<TenantTable[]> {
  const { results } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name",
    )
    .all<{ name: string }>();
  const tables: TenantTable[] = [];
  for (const { name } of results) {
    if (!TABLE_NAME.test(name)) continue;
    const columns = await db.prepare(`PRAGMA table_info("${name}")`).all<{ name: string; pk: number }>();
    if (!columns.results.some((column) => column.name === "tenant_id")) continue;
    const key = columns.results
      .filter((column) => column.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((column) => column.name);
    tables.push({ name, key });
  }
  return tables;
}

/** Erases one batch of the tenant's rows and files (or, with `mode: "count"`, counts what is left). */
export async function eraseTenant(
  env: ToolsEnv,
  tenant: TenantContext,
  request: EraseRequest | undefined,
): Promise<RpcResult<EraseReport>> {
  const call = eraseCallOf(tenant, request);
  if (!call.ok) return call;
  const { mode, batchSize } = call.value;
  const db = env.TOOLS_DB;
  await ensureSchema(db);
  const tables = await tenantTables(db);
  const prefix = tenantFilesPrefix(tenant.tenantId);
  const counts: StoreCounts = {};

  if (mode === "count") {
    const rows = await batch<{ n: number }>(
      db,
      tables.map((table) =>
        db.prepare(`SELECT COUNT(*) AS n FROM "${table.name}" WHERE tenant_id = ?`).bind(tenant.tenantId),
      ),
    );
    tables.forEach((table, i) => {
      counts[table.name] = rows[i]!.results[0]?.n ?? 0;
    });
    counts.files = await countObjects(env.TOOL_FILES, prefix);
    return ok({ done: Object.values(counts).every((n) => n === 0), counts });
  }

  const deleted = await batch(
    db,
    tables.map((table) => deleteBatch(db, table, tenant.tenantId, batchSize)),
  );
  let more = false;
  tables.forEach((table, i) => {
    const changes = deleted[i]!.meta.changes;
    counts[table.name] = changes;
    if (changes >= batchSize) more = true;
  });
  const files = await deleteObjectsPage(env.TOOL_FILES, prefix, batchSize);
  counts.files = files.deleted;
  return ok({ done: !more && !files.more, counts });
}

/** Deletes up to `limit` of the tenant's rows of `table`, chosen by primary key (or rowid). */
function deleteBatch(db: D1Database, table: TenantTable, tenantId: string, limit: number): D1PreparedStatement {
  const key = table.key.length > 0 ? table.key.map((column) => `"${column}"`).join(", ") : "rowid";
  const keyExpr = table.key.length > 1 ? `(${key})` : key;
  return db
    .prepare(
      `DELETE FROM "${table.name}" WHERE tenant_id = ?1 AND ${keyExpr} IN (SELECT ${key} FROM "${table.name}" WHERE tenant_id = ?1 LIMIT ?2)`,
    )
    .bind(tenantId, limit);
}

/** The statements' results, in one round trip (none for no statement, which D1 refuses to batch). */
async function batch<T = unknown>(db: D1Database, statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
  return statements.length === 0 ? [] : db.batch<T>(statements);
}
