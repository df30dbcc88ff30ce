/**
 * Tenant erasure in the chat worker (src/erase.ts) against its real Durable Objects: every
 * session of the tenant — messages, record, retention alarm — and its directory go, in bounded
 * batches; another tenant's sessions stay; only the erasure context may erase.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { type EraseReport, type TenantContext, erasureContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { complete } from "./chat";
import { failure, makeTenant, unwrap } from "./tenant";

function eraser(tenant: TenantContext): TenantContext {
  return erasureContext(tenant.config, `erase-${crypto.randomUUID()}`, tenant.traceparent);
}

async function sessionsOf(tenant: TenantContext, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { sessionId } = unwrap(await complete(tenant, { message: `conversation ${i} about lighthouses` }));
    unwrap(await complete(tenant, { message: "and a follow-up", sessionId }));
    ids.push(sessionId);
  }
  return ids;
}

/** What a session's object still holds: message rows, its session record, its alarm. */
async function sessionStorage(tenant: TenantContext, sessionId: string) {
  const stub = env.CHAT_SESSION.getByName(`${tenant.tenantId}:${sessionId}`);
  return runInDurableObject(stub, async (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((row) => row.name);
    const count = (table: string) =>
      tables.includes(table) ? state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n : 0;
    return { messages: count("messages"), records: count("session"), alarm: await state.storage.getAlarm() };
  });
}

describe("eraseTenant", () => {
  it("erases every session in bounded batches, then the directory; another tenant keeps its sessions", async () => {
    const tenant = makeTenant();
    const other = makeTenant();
    const ids = await sessionsOf(tenant, 3);
    const [kept] = await sessionsOf(other, 1);
    expect(await sessionStorage(tenant, ids[0]!)).toMatchObject({ messages: 4, records: 1 });
    expect((await sessionStorage(tenant, ids[0]!)).alarm).not.toBeNull();

    const counted = unwrap(await exports.default.eraseTenant(eraser(tenant), { mode: "count" }));
    expect(counted).toEqual({ done: false, counts: { sessions: 3 } });

    const calls: EraseReport[] = [];
    for (let call = 0; call < 10; call++) {
      const report = unwrap(await exports.default.eraseTenant(eraser(tenant), { batchSize: 2 }));
      calls.push(report);
      if (report.done) break;
    }
    expect(calls.map((c) => c.done)).toEqual([false, true]);
    expect(calls.map((c) => c.counts.sessions)).toEqual([2, 1]);
    expect(calls.reduce((sum, c) => sum + c.counts.messages!, 0)).toBe(12);

    for (const id of ids) {
      expect(await sessionStorage(tenant, id)).toEqual({ messages: 0, records: 0, alarm: null });
      expect(failure(await exports.default.history(tenant, id, { limit: 10 })).code).toBe("not_found");
    }
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
    expect(unwrap(await exports.default.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: true,
      counts: { sessions: 0 },
    });

    const survivors = unwrap(await exports.default.listSessions(other, { limit: 10 })).items;
    expect(survivors.map((s) => s.id)).toEqual([kept]);
    expect(unwrap(await exports.default.history(other, kept!, { limit: 10 })).items).toHaveLength(4);
  });

  it("is idempotent, and the tenant id starts empty when used again", async () => {
    const tenant = makeTenant();
    await sessionsOf(tenant, 1);
    expect(unwrap(await exports.default.eraseTenant(eraser(tenant))).done).toBe(true);
    expect(unwrap(await exports.default.eraseTenant(eraser(tenant)))).toEqual({
      done: true,
      counts: { sessions: 0, messages: 0 },
    });
    const { sessionId } = unwrap(await complete(tenant, { message: "a fresh start" }));
    const listed = unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items;
    expect(listed.map((s) => [s.id, s.messageCount])).toEqual([[sessionId, 2]]);
  });

  it("refuses an API request's context and a malformed request", async () => {
    const tenant = makeTenant();
    const [id] = await sessionsOf(tenant, 1);
    expect(failure(await exports.default.eraseTenant(tenant)).code).toBe("forbidden");
    expect(failure(await exports.default.eraseTenant({ ...eraser(tenant), keyId: "key-1" })).code).toBe("forbidden");
    expect(failure(await exports.default.eraseTenant(eraser(tenant), { batchSize: 0 })).code).toBe("bad_request");
    expect(failure(await exports.default.eraseTenant(eraser(tenant), { mode: "all" as "count" })).code).toBe(
      "bad_request",
    );
    expect(unwrap(await exports.default.history(tenant, id!, { limit: 10 })).items).toHaveLength(4);
  });
});
