/**
 * @crispy/storage — helpers for Durable Objects' SQLite storage, shared by every worker's DOs.
 */

/**
 * Brings a Durable Object's SQLite schema up to date. `steps[i]` is the SQL that takes the schema
 * from version i to i + 1; the steps not yet applied run in one transaction, and the version
 * reached is recorded in `schema_version`. Call it from the constructor (synchronous, so no
 * request sees a half-made schema) and again after `deleteAll()`.
 *
 * A released step is never edited: a change to the schema is a new step at the end.
 */
export function migrateSchema(storage: DurableObjectStorage, steps: readonly string[]): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const current =
    sql.exec<{ version: number | null }>("SELECT MAX(version) AS version FROM schema_version").one().version ?? 0;
  if (current >= steps.length) return;
  storage.transactionSync(() => {
    for (let version = current; version < steps.length; version++) sql.exec(steps[version]!);
    sql.exec("INSERT INTO schema_version (version) VALUES (?)", steps.length);
  });
}
