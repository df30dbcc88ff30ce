import { env, exports } from "cloudflare:workers";
import type { ChatTurnReply, MessageRecord, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { CONTEXT_TOKEN_BUDGET } from "../src/context-window";
import { ECHO, FAIL_ALWAYS, failure, makeTenant, unwrap } from "./tenant";
import { complete } from "./chat";

async function history(tenant: TenantContext, sessionId: string): Promise<MessageRecord[]> {
  return unwrap(await exports.default.history(tenant, sessionId, { limit: 100 })).items;
}

async function turn(tenant: TenantContext, message: string, sessionId?: string): Promise<ChatTurnReply> {
  return unwrap(await complete(tenant, { message, ...(sessionId ? { sessionId } : {}) }));
}

describe("complete (non-streaming turn)", () => {
  it("answers, commits the turn, and continues the session on the next turn", async () => {
    const tenant = makeTenant();
    const first = await turn(tenant, "My name is Ada.");
    expect(first).toEqual({
      sessionId: expect.stringMatching(/^ses_/),
      turnId: expect.stringMatching(/^turn_/),
      model: ECHO,
      reply: expect.stringContaining("My name is Ada."),
      usage: {
        promptTokens: expect.any(Number),
        completionTokens: expect.any(Number),
        totalTokens: first.usage.promptTokens + first.usage.completionTokens,
      },
      // The model call's span (not a RAG turn: no retrieve), for the gateway's Server-Timing.
      timings: { model: expect.any(Number) },
    });
    const second = await turn(tenant, "What is my name?", first.sessionId);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.turnId).not.toBe(first.turnId);
    // The second prompt carries the first turn: it is longer than the first prompt.
    expect(second.usage.promptTokens).toBeGreaterThan(first.usage.promptTokens);

    const messages = await history(tenant, first.sessionId);
    expect(messages.map((m) => [m.role, m.content, m.turnId])).toEqual([
      ["user", "My name is Ada.", first.turnId],
      ["assistant", first.reply, first.turnId],
      ["user", "What is my name?", second.turnId],
      ["assistant", second.reply, second.turnId],
    ]);
    expect(messages[1]!.tokens).toBe(first.usage.completionTokens);
    expect(messages.map((m) => m.seq)).toEqual([...messages.map((m) => m.seq)].sort((a, b) => a - b));
  });

  it("fails with ai_unavailable when every model fails, committing nothing", async () => {
    const tenant = makeTenant();
    const first = await turn(tenant, "keep me");
    const error = failure(await complete(tenant, { sessionId: first.sessionId, message: "lost", model: FAIL_ALWAYS }));
    expect(error.code).toBe("ai_unavailable");
    expect((await history(tenant, first.sessionId)).map((m) => m.content)).toEqual(["keep me", first.reply]);
    expect(unwrap(await env.RATELIMIT.usage(tenant)).openReservations).toBe(0);
  });

  it("leaves no empty session behind when the first turn of a new session fails", async () => {
    const tenant = makeTenant();
    const error = failure(await complete(tenant, { message: "never stored", model: FAIL_ALWAYS }));
    expect(error.code).toBe("ai_unavailable");
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
  });
});

describe("turn serialisation", () => {
  it("runs concurrent turns on one session one after another and loses none", async () => {
    const tenant = makeTenant();
    const { sessionId } = await turn(tenant, "turn 0");
    const questions = [1, 2, 3, 4, 5].map((n) => `concurrent turn ${n}`);
    const replies = await Promise.all(questions.map((q) => turn(tenant, q, sessionId)));

    const messages = (await history(tenant, sessionId)).slice(2);
    expect(messages).toHaveLength(10);
    expect(messages.map((m) => m.role)).toEqual(Array(5).fill(["user", "assistant"]).flat());
    for (let i = 0; i < 10; i += 2) {
      const [user, assistant] = [messages[i]!, messages[i + 1]!];
      expect(assistant.turnId).toBe(user.turnId);
      const reply = replies.find((r) => r.turnId === user.turnId)!;
      expect(assistant.content).toBe(reply.reply);
      expect(reply.reply).toContain(user.content);
    }
    expect(
      messages
        .map((m) => m.content)
        .filter((_, i) => i % 2 === 0)
        .sort(),
    ).toEqual(questions);
    // Each turn saw its predecessors' commits: prompts grow strictly in commit order.
    const prompts = messages
      .filter((_, i) => i % 2 === 0)
      .map((m) => replies.find((r) => r.turnId === m.turnId)!.usage.promptTokens);
    expect(prompts).toEqual([...prompts].sort((a, b) => a - b));
    expect(new Set(prompts).size).toBe(5);
  });
});

describe("context window", () => {
  it("is built by a token budget: a long history is cut from the oldest messages", async () => {
    const tenant = makeTenant();
    const long = (n: number) => `Message ${n}: ${"lorem ipsum dolor sit amet ".repeat(100)}`; // ~700 tokens
    let sessionId: string | undefined;
    const prompts: number[] = [];
    for (let n = 1; n <= 16; n++) {
      const reply = await turn(tenant, long(n), sessionId);
      sessionId = reply.sessionId;
      prompts.push(reply.usage.promptTokens);
    }
    const stored = await history(tenant, sessionId!);
    const storedTokens = stored.reduce((sum, m) => sum + m.tokens + 4, 0);
    expect(storedTokens).toBeGreaterThan(1.8 * CONTEXT_TOKEN_BUDGET);
    // Every prompt stays within the budget, and once the history outgrows it, prompts stop growing.
    expect(Math.max(...prompts)).toBeLessThanOrEqual(CONTEXT_TOKEN_BUDGET);
    expect(prompts.at(-1)!).toBeGreaterThan(CONTEXT_TOKEN_BUDGET - 1000);
    expect(prompts.slice(-3).every((p) => Math.abs(p - prompts.at(-1)!) < 100)).toBe(true);
  });

  it("keeps a system prompt within the same budget", async () => {
    const tenant = makeTenant();
    const system = "You are terse. ".repeat(200); // ~750 tokens
    const first = unwrap(await complete(tenant, { message: "hello", system }));
    const plain = unwrap(await complete(tenant, { message: "hello" }));
    expect(first.usage.promptTokens - plain.usage.promptTokens).toBe(Math.ceil(system.length / 4) + 4);
    // The system prompt is per request, not stored.
    expect((await history(tenant, first.sessionId)).map((m) => m.role)).toEqual(["user", "assistant"]);
  });
});

describe("sessions.maxMessages", () => {
  it("drops the oldest messages at commit once the session holds more", async () => {
    const tenant = makeTenant({ sessions: { maxMessages: 4 } });
    const first = await turn(tenant, "one");
    await turn(tenant, "two", first.sessionId);
    await turn(tenant, "three", first.sessionId);
    const messages = await history(tenant, first.sessionId);
    expect(messages.map((m) => [m.role, m.content.startsWith("You said") ? "reply" : m.content])).toEqual([
      ["user", "two"],
      ["assistant", "reply"],
      ["user", "three"],
      ["assistant", "reply"],
    ]);
    const [summary] = unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items;
    expect(summary).toMatchObject({ id: first.sessionId, title: "one", messageCount: 4 });
  });
});
