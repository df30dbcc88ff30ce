/**
 * The crispy-tools D1 schema, applied from code on first use in each isolate: this worker also runs
 * as an auxiliary worker in other packages' tests and in `pnpm dev`, where nobody runs
 * `wrangler d1 migrations apply` for it.
 *
 * SCHEMA_STEPS is an ordered list; `schema_version` records each step applied (one row per step,
 * inserted in the same batch — one transaction — as the step's statements). Steps run in order,
 * each at most once per database; two isolates racing on a step are safe because every statement
 * is idempotent (`IF NOT EXISTS`) and the loser's insert of the version row fails, rolling its
 * batch back.
 *
 * RULE: a step once released is never edited, reordered or removed — a database that already
 * applied it would never see the edit. Change the schema by appending a new step.
 *
 * Tables (tenant_id first in every key and index, so every query is one tenant's range):
 * - http_tools: the tenant-defined HTTP tools, PRIMARY KEY (tenant_id, name); `secret_sealed` is
 *   the AES-GCM ciphertext of the auth secret (secrets.ts), never plaintext.
 * - tool_executions: the audit, one row per execute call; `seq` orders it (newest first by
 *   `seq DESC`) and is the page cursor's position; `id` is the execution id (time-sortable).
 * - mcp_servers: the tenant's remote MCP servers, PRIMARY KEY (tenant_id, name); `secret_sealed`
 *   is the AES-GCM ciphertext of the bearer secret; `tools_json` the cached tool list
 *   (`[{ name, description, inputSchema }]`), `refreshed_at` the last refresh that succeeded,
 *   `checked_at` the last attempt. The one index not led by tenant_id is mcp_servers_due
 *   (checked_at): the cron's "which servers are stale, across tenants" query reads only
 *   (tenant_id, name) from it, then works through the tenant-scoped store (mcp-server-store.ts).
 */

interface SchemaStep {
  version: number;
  description: string;
  statements: string[];
}

export const SCHEMA_STEPS: readonly SchemaStep[] = [
  {
    version: 1,
    description: "http_tools registry and tool_executions audit",
    statements: [
      `CREATE TABLE IF NOT EXISTS http_tools (
        tenant_id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        parameters_json TEXT NOT NULL,
        url TEXT NOT NULL,
        method TEXT NOT NULL,
        headers_json TEXT NOT NULL,
        auth_type TEXT,
        auth_header TEXT,
        secret_sealed TEXT,
        timeout_ms INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, name)
      ) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS tool_executions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        tool TEXT NOT NULL,
        key_id TEXT,
        session_id TEXT,
        caller TEXT NOT NULL,
        call_id TEXT,
        input_digest TEXT NOT NULL,
        status TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        output_bytes INTEGER NOT NULL,
        error TEXT,
        created_at TEXT NOT NULL
      )`,
      "CREATE INDEX IF NOT EXISTS tool_executions_by_tenant ON tool_executions (tenant_id, seq)",
      "CREATE INDEX IF NOT EXISTS tool_executions_by_tenant_tool ON tool_executions (tenant_id, tool, seq)",
    ],
  },
  {
    version: 2,
    description: "mcp_servers: remote MCP servers and their cached tool lists",
    statements: [
      `CREATE TABLE IF NOT EXISTS mcp_servers (
        tenant_id TEXT NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        description TEXT,
        secret_sealed TEXT,
        allow_tools_json TEXT,
        timeout_ms INTEGER NOT NULL,
        tools_json TEXT NOT NULL,
        skipped_json TEXT NOT NULL,
        refreshed_at TEXT,
        checked_at TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, name)
      ) WITHOUT ROWID`,
      "CREATE INDEX IF NOT EXISTS mcp_servers_due ON mcp_servers (checked_at)",
    ],
  },
];

const ready = new WeakMap<D1Database, Promise<void>>();

/** Resolves once `db` has every step of SCHEMA_STEPS (applied at most once per isolate and database). */
export function ensureSchema(db: D1Database): Promise<void> {
  let applied = ready.get(db);
  if (!applied) {
    applied = applySchema(db).catch((error: unknown) => {
      ready.delete(db);
      throw error;
    });
    ready.set(db, applied);
  }
  return applied;
}

/** Applies the steps `db` does not have yet (exported for the race test; use `ensureSchema`). */
export async function applySchema(db: D1Database): Promise<void> {
  await db
    .prepare(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .run();
  let current = await currentVersion(db);
  for (const step of SCHEMA_STEPS) {
    if (step.version <= current) continue;
    try {
      await db.batch([
        ...step.statements.map((sql) => db.prepare(sql)),
        db
          .prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")
          .bind(step.version, step.description, new Date().toISOString()),
      ]);
    } catch (error) {
      // Another isolate applied this step meanwhile: its batch won, ours rolled back.
      if ((await currentVersion(db)) < step.version) throw error;
    }
    current = step.version;
  }
}

async function currentVersion(db: D1Database): Promise<number> {
  const row = await db
    .prepare("SELECT MAX(version) AS version FROM schema_version")
    .first<{ version: number | null }>();
  return row?.version ?? 0;
}
