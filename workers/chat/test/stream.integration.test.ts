import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { MessageRecord, Page, RpcResult, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { dataOf, readSse, type DoneEvent } from "./sse";
import { ECHO, FAIL_ALWAYS, FAIL_MID_STREAM, failure, makeTenant, unwrap } from "./tenant";
import { stream, complete } from "./chat";

async function history(tenant: TenantContext, sessionId: string): Promise<MessageRecord[]> {
  const page: Page<MessageRecord> = unwrap(await exports.default.history(tenant, sessionId, { limit: 100 }));
  return page.items;
}

describe("stream (events format)", () => {
  it("streams tokens whose concatenation is the committed reply, then done with the usage", async () => {
    const tenant = makeTenant();
    const started = unwrap(await stream(tenant, { message: "Tell me about Lisbon" }, "events"));
    expect(started.sessionId).toMatch(/^ses_[0-9a-f]{32}$/);

    const frames = await readSse(started.body);
    expect(frames.every((f) => f.id !== undefined)).toBe(true);
    expect(frames.map((f) => Number(f.id))).toEqual(frames.map((_, i) => i + 1));
    const tokens = dataOf<{ token: string }>(frames, "token").map((t) => t.token);
    expect(tokens.length).toBeGreaterThan(3);
    expect(frames.at(-1)!.event).toBe("done");
    const [done] = dataOf<DoneEvent>(frames, "done");

    const messages = await history(tenant, started.sessionId);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(messages[0]!.content).toBe("Tell me about Lisbon");
    expect(messages[1]!.content).toBe(tokens.join(""));
    expect(messages.every((m) => m.turnId === done!.turnId)).toBe(true);
    expect(done).toEqual({
      turnId: expect.stringMatching(/^turn_/),
      sessionId: started.sessionId,
      model: ECHO,
      usage: {
        promptTokens: expect.any(Number),
        completionTokens: messages[1]!.tokens,
        totalTokens: done!.usage.promptTokens + messages[1]!.tokens,
      },
      // The turn's spans: the model call and its time to first token.
      timings: { model: expect.any(Number), ttft: expect.any(Number) },
    });
    expect(done!.usage.completionTokens).toBeGreaterThan(0);
  });

  it("settles the reservation at the turn's usage", async () => {
    const tenant = makeTenant();
    const started = unwrap(await stream(tenant, { message: "Count my tokens" }, "events"));
    const [done] = dataOf<DoneEvent>(await readSse(started.body), "done");
    const usage = unwrap(await env.RATELIMIT.usage(tenant));
    expect(usage.openReservations).toBe(0);
    expect(usage.daily.used).toBe(done!.usage.totalTokens);
  });

  it("falls back to the next model before the first token, and done names it", async () => {
    const tenant = makeTenant({ chat: { default: FAIL_ALWAYS, fallbacks: [ECHO] } });
    const started = unwrap(await stream(tenant, { message: "Hello fallback" }, "events"));
    const frames = await readSse(started.body);
    const [done] = dataOf<DoneEvent>(frames, "done");
    expect(done!.model).toBe(ECHO);
    const text = dataOf<{ token: string }>(frames, "token")
      .map((t) => t.token)
      .join("");
    expect((await history(tenant, started.sessionId)).map((m) => m.content)).toEqual(["Hello fallback", text]);
  });

  it("reports ai_unavailable in an error event when every model fails, and keeps no half turn", async () => {
    const tenant = makeTenant();
    const first = unwrap(await complete(tenant, { message: "first turn" }));
    const started = unwrap(
      await stream(tenant, { sessionId: first.sessionId, message: "doomed", model: FAIL_ALWAYS }, "events"),
    );
    const frames = await readSse(started.body);
    expect(frames.map((f) => f.event)).toEqual(["error"]);
    expect(dataOf<{ code: string; message: string }>(frames, "error")[0]).toEqual({
      code: "ai_unavailable",
      message: expect.stringContaining(FAIL_ALWAYS),
    });
    expect((await history(tenant, first.sessionId)).map((m) => m.content)).toEqual(["first turn", first.reply]);
    const usage = unwrap(await env.RATELIMIT.usage(tenant));
    expect(usage.openReservations).toBe(0);
    expect(usage.daily.used).toBe(first.usage.totalTokens);
  });

  it("reports a mid-stream failure after the tokens sent, and keeps no half turn", async () => {
    const tenant = makeTenant();
    const started = unwrap(await stream(tenant, { message: "this will break", model: FAIL_MID_STREAM }, "events"));
    const frames = await readSse(started.body);
    expect(frames.map((f) => f.event)).toEqual(["token", "error"]);
    expect(dataOf<{ code: string }>(frames, "error")[0]!.code).toBe("ai_unavailable");
    // A new session whose first turn failed was never listed and keeps nothing.
    expect(failure(await exports.default.history(tenant, started.sessionId, { limit: 10 })).code).toBe("not_found");
    const object = env.CHAT_SESSION.getByName(`${tenant.tenantId}:${started.sessionId}`);
    await runInDurableObject(object, (_, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
        )
        .toArray();
      expect(tables).toEqual([]);
    });
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
    const usage = unwrap(await env.RATELIMIT.usage(tenant));
    expect(usage.openReservations).toBe(0);
    expect(usage.daily.used).toBeGreaterThan(0);
  });
});

describe("stream (openai format)", () => {
  it("sends chat.completion.chunk objects, a stop chunk, a usage chunk and [DONE]", async () => {
    const tenant = makeTenant();
    const started = unwrap(await stream(tenant, { message: "OpenAI dialect please" }, "openai"));
    const frames = await readSse(started.body);
    expect(frames.at(-1)!.data).toBe("[DONE]");
    expect(frames.every((f) => f.event === undefined && f.id === undefined)).toBe(true);
    type Chunk = {
      id: string;
      object: string;
      created: number;
      model: string;
      choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
      usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data!) as Chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === ECHO)).toBe(true);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    const stop = chunks.at(-2)!;
    expect(stop.choices).toEqual([{ index: 0, delta: {}, finish_reason: "stop" }]);
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    const messages = await history(tenant, started.sessionId);
    expect(messages[1]!.content).toBe(text);
    expect(usage.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: messages[1]!.tokens,
      total_tokens: usage.usage!.prompt_tokens + messages[1]!.tokens,
    });
  });
});

describe("failures known before streaming", () => {
  it("refuses a model outside the allow-list with forbidden, naming it and the allowed models", async () => {
    const tenant = makeTenant();
    const results: RpcResult<unknown>[] = [
      await stream(tenant, { message: "hi", model: "gpt-9" }, "events"),
      await complete(tenant, { message: "hi", model: "gpt-9" }),
    ];
    for (const result of results) {
      const error = failure(result);
      expect(error.code).toBe("forbidden");
      expect(error.message).toContain('"gpt-9"');
      expect(error.message).toContain(ECHO);
    }
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
  });

  it("refuses a turn over the token budget with budget_exceeded and creates nothing", async () => {
    const tenant = makeTenant({ budgets: { dailyTokens: 100, monthlyTokens: 1_000_000 } });
    const results: RpcResult<unknown>[] = [
      await stream(tenant, { message: "hi" }, "events"),
      await complete(tenant, { message: "hi" }),
    ];
    for (const result of results) {
      expect(failure(result)).toMatchObject({
        code: "budget_exceeded",
        details: { window: "daily", remaining: 100, resetsAt: expect.any(String) },
      });
    }
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
  });
});
