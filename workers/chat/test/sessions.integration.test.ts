import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { ChatTurnReply, RpcResult, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { readSse } from "./sse";
import { SLOW_FIRST_TOKEN, failure, makeTenant, unwrap } from "./tenant";
import { stream, complete, completions } from "./chat";

async function turn(tenant: TenantContext, message: string, sessionId?: string): Promise<ChatTurnReply> {
  return unwrap(await complete(tenant, { message, ...(sessionId ? { sessionId } : {}) }));
}

function sessionObject(tenant: TenantContext, sessionId: string) {
  return env.CHAT_SESSION.getByName(`${tenant.tenantId}:${sessionId}`);
}

describe("history", () => {
  it("pages a session's messages oldest first with an opaque cursor", async () => {
    const tenant = makeTenant();
    const { sessionId } = await turn(tenant, "one");
    await turn(tenant, "two", sessionId);
    await turn(tenant, "three", sessionId);

    const first = unwrap(await exports.default.history(tenant, sessionId, { limit: 4 }));
    expect(first.items.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(first.items[0]!.content).toBe("one");
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = unwrap(await exports.default.history(tenant, sessionId, { cursor: first.nextCursor!, limit: 4 }));
    expect(second.items.map((m) => m.content)[0]).toBe("three");
    expect(second.items).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const seqs = [...first.items, ...second.items].map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(6);
    for (const m of first.items) expect(Date.parse(m.createdAt)).not.toBeNaN();

    const exact = unwrap(await exports.default.history(tenant, sessionId, { limit: 6 }));
    expect(exact.nextCursor).toBeNull();
    expect(failure(await exports.default.history(tenant, sessionId, { cursor: "bogus!", limit: 4 })).code).toBe(
      "bad_request",
    );
  });
});

describe("listSessions", () => {
  it("lists sessions newest-updated first with title and message count, paginated", async () => {
    const tenant = makeTenant();
    const a = await turn(tenant, "Plan a trip to Porto");
    const b = await turn(tenant, "Recipe for pastel de nata");
    const c = await turn(tenant, `   A very long first message   that goes on and on ${"and on ".repeat(20)}`);
    await turn(tenant, "And back to Porto", a.sessionId);

    const page1 = unwrap(await exports.default.listSessions(tenant, { limit: 2 }));
    expect(page1.items.map((s) => s.id)).toEqual([a.sessionId, c.sessionId]);
    expect(page1.items[0]).toMatchObject({ title: "Plan a trip to Porto", messageCount: 4 });
    const long = page1.items[1]!;
    expect(long.messageCount).toBe(2);
    expect(long.title.length).toBeLessThanOrEqual(60);
    expect(long.title).toMatch(/^A very long first message that goes on and on and on/);
    expect(long.title.endsWith("…")).toBe(true);
    expect(Date.parse(page1.items[0]!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(page1.items[0]!.createdAt));
    expect(page1.nextCursor).toEqual(expect.any(String));

    const page2 = unwrap(await exports.default.listSessions(tenant, { cursor: page1.nextCursor!, limit: 2 }));
    expect(page2.items.map((s) => [s.id, s.title, s.messageCount])).toEqual([
      [b.sessionId, "Recipe for pastel de nata", 2],
    ]);
    expect(page2.nextCursor).toBeNull();
    expect(failure(await exports.default.listSessions(tenant, { cursor: "nope", limit: 2 })).code).toBe("bad_request");
  });

  it("shows a tenant only its own sessions", async () => {
    const acme = makeTenant();
    const globex = makeTenant();
    await turn(acme, "acme only");
    expect(unwrap(await exports.default.listSessions(globex, { limit: 10 })).items).toEqual([]);
  });
});

describe("unknown sessions", () => {
  it("answers not_found for unknown ids and for another tenant's session, alike", async () => {
    const owner = makeTenant();
    const other = makeTenant();
    const { sessionId } = await turn(owner, "private");
    for (const [tenant, id] of [
      [owner, "ses_does_not_exist"],
      [other, sessionId],
    ] as const) {
      const results: RpcResult<unknown>[] = [
        await exports.default.history(tenant, id, { limit: 10 }),
        await exports.default.deleteSession(tenant, id),
        await exports.default.resetSession(tenant, id),
        await stream(tenant, { sessionId: id, message: "hijack" }, "events"),
        await complete(tenant, { sessionId: id, message: "hijack" }),
        await completions(tenant, {
          messages: [{ role: "user", content: "hijack" }],
          stream: false,
          session_id: id,
        }),
      ];
      for (const result of results) {
        expect(failure(result)).toEqual({ code: "not_found", message: `session "${id}" does not exist` });
      }
    }
    // The owner's session is untouched.
    const history = unwrap(await exports.default.history(owner, sessionId, { limit: 10 }));
    expect(history.items.map((m) => m.content)[0]).toBe("private");
  });
});

describe("deleteSession and resetSession", () => {
  it("delete removes the session and its messages", async () => {
    const tenant = makeTenant();
    const { sessionId } = await turn(tenant, "delete me");
    expect(unwrap(await exports.default.deleteSession(tenant, sessionId))).toEqual({ id: sessionId, deleted: true });
    expect(failure(await exports.default.history(tenant, sessionId, { limit: 10 })).code).toBe("not_found");
    expect(failure(await exports.default.deleteSession(tenant, sessionId)).code).toBe("not_found");
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
    // Nothing of it is kept: the object's storage holds no table any more.
    await runInDurableObject(sessionObject(tenant, sessionId), (_, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
        )
        .toArray();
      expect(tables).toEqual([]);
    });
  });

  it("reset clears the messages but keeps the session, which takes a new title", async () => {
    const tenant = makeTenant();
    const { sessionId } = await turn(tenant, "old topic");
    const summary = unwrap(await exports.default.resetSession(tenant, sessionId));
    expect(summary).toMatchObject({ id: sessionId, title: "", messageCount: 0 });
    expect(unwrap(await exports.default.history(tenant, sessionId, { limit: 10 })).items).toEqual([]);
    await turn(tenant, "new topic", sessionId);
    const [listed] = unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items;
    expect(listed).toMatchObject({ id: sessionId, title: "new topic", messageCount: 2 });
  });

  it("delete or reset during a turn aborts it: an error event, nothing committed", async () => {
    const tenant = makeTenant();
    for (const [action, code] of [
      [(id: string) => exports.default.resetSession(tenant, id), "conflict"],
      [(id: string) => exports.default.deleteSession(tenant, id), "not_found"],
    ] as const) {
      const { sessionId } = await turn(tenant, "before");
      const started = unwrap(
        await stream(tenant, { sessionId, message: "never answered", model: SLOW_FIRST_TOKEN }, "events"),
      );
      const reading = readSse(started.body);
      expect((await action(sessionId)).ok).toBe(true);
      const frames = await reading;
      expect(frames.map((f) => f.event)).toEqual(["error"]);
      expect(JSON.parse(frames[0]!.data!).code).toBe(code);
      if (code === "conflict") {
        expect(unwrap(await exports.default.history(tenant, sessionId, { limit: 10 })).items).toEqual([]);
      }
    }
    const usage = unwrap(await env.RATELIMIT.usage(tenant));
    expect(usage.openReservations).toBe(0);
  });
});

describe("retention", () => {
  it("the alarm deletes an expired session and unlists it", async () => {
    const tenant = makeTenant({ sessions: { retentionDays: 1 } });
    const { sessionId } = await turn(tenant, "short-lived");
    const stub = sessionObject(tenant, sessionId);
    const alarmAt = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarmAt! - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect(alarmAt! - Date.now()).toBeLessThanOrEqual(24 * 3600_000);

    // Not yet due: an early alarm keeps the session and re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(unwrap(await exports.default.history(tenant, sessionId, { limit: 10 })).items).toHaveLength(2);

    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE session SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(failure(await exports.default.history(tenant, sessionId, { limit: 10 })).code).toBe("not_found");
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
  });

  it("each turn pushes the expiry forward", async () => {
    const tenant = makeTenant({ sessions: { retentionDays: 2 } });
    const { sessionId } = await turn(tenant, "first");
    const stub = sessionObject(tenant, sessionId);
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE session SET expires_at = ?", Date.now() + 1000);
    });
    await turn(tenant, "second", sessionId);
    const expiresAt = await runInDurableObject(
      stub,
      (_, state) => state.storage.sql.exec<{ expires_at: number }>("SELECT expires_at FROM session").one().expires_at,
    );
    expect(expiresAt - Date.now()).toBeGreaterThan(47 * 3600_000);
  });
});
