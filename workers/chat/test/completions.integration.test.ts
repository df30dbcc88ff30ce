import { env, exports } from "cloudflare:workers";
import type { OpenAiChatBody, StartedStream, TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { CONTEXT_TOKEN_BUDGET } from "../src/context-window";
import type { OpenAiChatCompletion } from "../src/openai";
import { readSse } from "./sse";
import { ECHO, FAIL_ALWAYS, failure, makeTenant, unwrap } from "./tenant";
import { complete, completions } from "./chat";

type Chunk = {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

function body(overrides: Partial<OpenAiChatBody> = {}): OpenAiChatBody {
  return { messages: [{ role: "user", content: "Count to three" }], stream: false, ...overrides };
}

async function completion(tenant: TenantContext, request: OpenAiChatBody): Promise<OpenAiChatCompletion> {
  const value = unwrap(await completions(tenant, request));
  if ("body" in value) throw new Error("expected a chat.completion object");
  return value as OpenAiChatCompletion;
}

async function chunks(tenant: TenantContext, request: OpenAiChatBody): Promise<{ chunks: Chunk[]; last: string }> {
  const value = unwrap(await completions(tenant, { ...request, stream: true }));
  if (!("body" in value)) throw new Error("expected a stream");
  const frames = await readSse((value as StartedStream).body);
  return { chunks: frames.slice(0, -1).map((f) => JSON.parse(f.data!) as Chunk), last: frames.at(-1)!.data! };
}

describe("completions (OpenAI-compatible, stateless)", () => {
  it("returns a chat.completion object and stores nothing", async () => {
    const tenant = makeTenant();
    const result = await completion(tenant, body());
    expect(result).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: "chat.completion",
      created: expect.any(Number),
      model: ECHO,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: expect.stringContaining("Count to three"), refusal: null },
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        total_tokens: result.usage.prompt_tokens + result.usage.completion_tokens,
      },
      // The model call's span, which the gateway moves into Server-Timing (never into the body).
      timings: { model: expect.any(Number) },
    });
    expect(Math.abs(result.created - Date.now() / 1000)).toBeLessThan(60);
    expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
    const usage = unwrap(await env.RATELIMIT.usage(tenant));
    expect(usage).toMatchObject({ openReservations: 0, daily: { used: result.usage.total_tokens } });
  });

  it("streams chunks that parse as JSON and end with [DONE], with the same text", async () => {
    const tenant = makeTenant();
    const plain = await completion(tenant, body());
    const streamed = await chunks(tenant, body({ stream_options: { include_usage: true } }));
    expect(streamed.last).toBe("[DONE]");
    expect(streamed.chunks.every((c) => c.object === "chat.completion.chunk" && c.model === ECHO)).toBe(true);
    expect(streamed.chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(
      plain.choices[0]!.message.content,
    );
    expect(streamed.chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    expect(streamed.chunks.at(-1)!).toMatchObject({ choices: [], usage: { total_tokens: plain.usage.total_tokens } });

    const withoutUsage = await chunks(tenant, body());
    expect(withoutUsage.chunks.some((c) => c.usage !== undefined || c.choices.length === 0)).toBe(false);
    expect(withoutUsage.chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("honours max_tokens with finish_reason length", async () => {
    const tenant = makeTenant();
    const result = await completion(tenant, body({ max_tokens: 3 }));
    expect(result.choices[0]!.finish_reason).toBe("length");
    expect(result.usage.completion_tokens).toBeLessThanOrEqual(3);
  });

  it("trims a long message list to the token budget from the oldest non-system messages", async () => {
    const tenant = makeTenant();
    const filler = "lorem ipsum dolor sit amet ".repeat(100);
    const messages: OpenAiChatBody["messages"] = [{ role: "system", content: "Be brief." }];
    for (let i = 0; i < 20; i++) {
      messages.push(
        { role: "user", content: `question ${i} ${filler}` },
        { role: "assistant", content: `answer ${i} ${filler}` },
      );
    }
    messages.push({ role: "user", content: "And finally?" });
    const result = await completion(tenant, body({ messages }));
    expect(result.usage.prompt_tokens).toBeLessThanOrEqual(CONTEXT_TOKEN_BUDGET);
    expect(result.usage.prompt_tokens).toBeGreaterThan(CONTEXT_TOKEN_BUDGET - 1000);
    expect(result.choices[0]!.message.content).toContain("And finally?");
  });

  it("records the exchange in a session when session_id is given", async () => {
    const tenant = makeTenant();
    const { sessionId } = unwrap(await complete(tenant, { message: "start here" }));
    const result = await completion(
      tenant,
      body({
        session_id: sessionId,
        messages: [
          { role: "system", content: "s" },
          { role: "user", content: "via openai" },
        ],
      }),
    );
    const streamed = await chunks(
      tenant,
      body({ session_id: sessionId, messages: [{ role: "user", content: "streamed via openai" }] }),
    );
    const history = unwrap(await exports.default.history(tenant, sessionId, { limit: 10 })).items;
    expect(history.map((m) => [m.role, m.content])).toEqual([
      ["user", "start here"],
      ["assistant", expect.any(String)],
      ["user", "via openai"],
      ["assistant", result.choices[0]!.message.content],
      ["user", "streamed via openai"],
      ["assistant", streamed.chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")],
    ]);
    const [summary] = unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items;
    expect(summary!.messageCount).toBe(6);
  });

  it("applies the allow-list, the budget and the fallback chain like session turns", async () => {
    const tenant = makeTenant({ chat: { default: FAIL_ALWAYS, fallbacks: [ECHO] } });
    expect((await completion(tenant, body())).model).toBe(ECHO);
    expect(failure(await completions(tenant, body({ model: "gpt-9" }))).code).toBe("forbidden");
    const noFallback = makeTenant();
    expect(failure(await completions(noFallback, body({ model: FAIL_ALWAYS }))).code).toBe("ai_unavailable");
    expect(unwrap(await env.RATELIMIT.usage(noFallback)).openReservations).toBe(0);
    const poor = makeTenant({ budgets: { dailyTokens: 50, monthlyTokens: 1_000_000 } });
    expect(failure(await completions(poor, body())).code).toBe("budget_exceeded");
  });
});
