/** migrateSchema (@crispy/storage), which every Durable Object's SQLite schema goes through. */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { migrateSchema } from "@crispy/storage";
import { describe, expect, it } from "vitest";

describe("migrateSchema", () => {
  it("applies only the steps not yet applied, once, and records the version", async () => {
    // A TenantIndex's storage, already at its own schema; the test adds steps to a scratch table.
    const stub = env.TENANT_INDEX.getByName(`migrate-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const version = () => sql.exec<{ v: number }>("SELECT MAX(version) AS v FROM schema_version").one().v;
      const before = version();
      const scratch = "CREATE TABLE scratch (n INTEGER)";
      const seed = "INSERT INTO scratch (n) VALUES (1)";
      const steps = Array.from({ length: before }, () => "SELECT 1"); // the already-applied ones
      migrateSchema(state.storage, [...steps, scratch]);
      expect(version()).toBe(before + 1);
      migrateSchema(state.storage, [...steps, scratch, seed]);
      migrateSchema(state.storage, [...steps, scratch, seed]); // already there: nothing runs again
      expect(version()).toBe(before + 2);
      expect(sql.exec("SELECT n FROM scratch").toArray()).toEqual([{ n: 1 }]);
    });
  });

  it("rolls a failing step back with everything else in its run", async () => {
    const stub = env.TENANT_INDEX.getByName(`migrate-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const before = sql.exec<{ v: number }>("SELECT MAX(version) AS v FROM schema_version").one().v;
      const steps = Array.from({ length: before }, () => "SELECT 1");
      expect(() =>
        migrateSchema(state.storage, [...steps, "CREATE TABLE half (n INTEGER)", "NOT SQL AT ALL"]),
      ).toThrow();
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name = 'half'").toArray()).toEqual([]);
      expect(sql.exec<{ v: number }>("SELECT MAX(version) AS v FROM schema_version").one().v).toBe(before);
    });
  });
});
