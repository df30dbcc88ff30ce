import { describe, expect, it } from "vitest";
import type { ChatTurnReply, MessageRecord, Page, SessionSummary } from "@crispy/contracts";
import { bearer, call, createKey, expectError } from "./helpers";
import { readEvents } from "./sse";

// The chat worker runs with the local provider emitting one token every 50 ms (vitest.config.ts).
const json = (key: string) => bearer(key, { "content-type": "application/json" });

async function chatTurn(key: string, body: Record<string, unknown>): Promise<ChatTurnReply> {
  const response = await call("/v1/chat", {
    method: "POST",
    headers: json(key),
    body: JSON.stringify({ stream: false, ...body }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<ChatTurnReply>();
}

describe("POST /v1/chat", () => {
  it("streams tokens as the model emits them, unbuffered through gateway and RPC", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ message: "Tell me about the weather in Lisbon today" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const sessionId = response.headers.get("x-session-id");
    expect(sessionId).toBeTruthy();

    const events = await readEvents(response);
    const tokens = events.filter((e) => e.event === "token");
    const done = events.find((e) => e.event === "done");
    expect(tokens.length).toBeGreaterThan(5);
    expect(events.every((e) => e.id !== undefined)).toBe(true);
    const gaps = tokens.slice(1).map((t, i) => t.at - tokens[i]!.at);
    const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    expect(median).toBeGreaterThanOrEqual(35);
    expect(median).toBeLessThan(150);

    const text = tokens.map((t) => (JSON.parse(t.data) as { token: string }).token).join("");
    const summary = JSON.parse(done!.data) as {
      sessionId: string;
      turnId: string;
      model: string;
      usage: { completionTokens: number };
    };
    expect(summary).toMatchObject({ sessionId, model: "local/echo-1" });
    expect(summary.usage.completionTokens).toBeGreaterThan(0);

    const history = await (await call(`/v1/sessions/${sessionId}`, { headers: bearer(key) })).json<
      Page<MessageRecord>
    >();
    expect(history.items.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(history.items[1]!.content).toBe(text);
  });

  it("answers with JSON when stream is false, continuing the session", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const first = await chatTurn(key, { message: "My name is Ada." });
    expect(first.reply.length).toBeGreaterThan(0);
    expect(first.usage.totalTokens).toBe(first.usage.promptTokens + first.usage.completionTokens);
    const second = await chatTurn(key, { sessionId: first.sessionId, message: "What is my name?" });
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.turnId).not.toBe(first.turnId);
    const history = await (await call(`/chat/${first.sessionId}/history`, { headers: bearer(key) })).json<
      Page<MessageRecord>
    >();
    expect(history.items).toHaveLength(4);
  });

  it("rejects bad input with a 4xx that names the problem", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const empty = await expectError(
      await call("/v1/chat", { method: "POST", headers: json(key), body: JSON.stringify({ message: "" }) }),
      400,
      "validation_failed",
    );
    expect(empty.message).toMatch(/^message: /);
    const long = await expectError(
      await call("/v1/chat", {
        method: "POST",
        headers: json(key),
        body: JSON.stringify({ message: "x".repeat(32_001) }),
      }),
      400,
      "validation_failed",
    );
    expect(long.message).toMatch(/32000/);
    const model = await expectError(
      await call("/v1/chat", {
        method: "POST",
        headers: json(key),
        body: JSON.stringify({ message: "hi", model: "gpt-9", stream: false }),
      }),
      403,
      "forbidden",
    );
    expect(model.message).toMatch(/gpt-9/);
    await expectError(
      await call("/v1/chat", {
        method: "POST",
        headers: json(key),
        body: JSON.stringify({ message: "hi", sessionId: "ses_does_not_exist" }),
      }),
      404,
      "not_found",
    );
  });

  it("needs the chat scope", async () => {
    const { key } = await createKey("acme", ["search"]);
    await expectError(
      await call("/v1/chat", { method: "POST", headers: json(key), body: JSON.stringify({ message: "hi" }) }),
      403,
      "forbidden",
    );
  });

  it("keeps no half turn when the client disconnects mid-stream", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const { sessionId } = await chatTurn(key, { message: "first turn" });
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ sessionId, message: "a long answer please, about everything" }),
    });
    const seen = await readEvents(response, (event) => event.event === "token");
    expect(seen.some((e) => e.event === "done")).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const history = await (await call(`/v1/sessions/${sessionId}`, { headers: bearer(key) })).json<
      Page<MessageRecord>
    >();
    expect(history.items.map((m) => m.role)).toEqual(["user", "assistant"]);
  });
});

describe("sessions", () => {
  it("lists, resets and deletes a tenant's sessions, and hides them from other tenants", async () => {
    const { key: acme } = await createKey("acme", ["chat"]);
    const { key: globex } = await createKey("globex", ["chat"]);
    const { sessionId } = await chatTurn(acme, { message: "Plan a trip to Porto" });

    const list = await (await call("/v1/sessions?limit=100", { headers: bearer(acme) })).json<Page<SessionSummary>>();
    const mine = list.items.find((s) => s.id === sessionId)!;
    expect(mine).toMatchObject({ title: "Plan a trip to Porto", messageCount: 2 });
    const theirs = await (await call("/v1/sessions?limit=100", { headers: bearer(globex) })).json<
      Page<SessionSummary>
    >();
    expect(theirs.items.some((s) => s.id === sessionId)).toBe(false);

    for (const [method, path] of [
      ["GET", `/v1/sessions/${sessionId}`],
      ["DELETE", `/v1/sessions/${sessionId}`],
      ["POST", `/v1/sessions/${sessionId}/reset`],
      ["DELETE", `/chat/${sessionId}`],
    ] as const) {
      await expectError(await call(path, { method, headers: bearer(globex) }), 404, "not_found");
    }
    await expectError(
      await call("/v1/chat", {
        method: "POST",
        headers: json(globex),
        body: JSON.stringify({ sessionId, message: "hijack", stream: false }),
      }),
      404,
      "not_found",
    );

    expect((await call(`/v1/sessions/${sessionId}/reset`, { method: "POST", headers: bearer(acme) })).status).toBe(200);
    const afterReset = await (await call(`/v1/sessions/${sessionId}`, { headers: bearer(acme) })).json<
      Page<MessageRecord>
    >();
    expect(afterReset.items).toHaveLength(0);

    expect((await call(`/v1/sessions/${sessionId}`, { method: "DELETE", headers: bearer(acme) })).status).toBe(200);
    await expectError(await call(`/v1/sessions/${sessionId}`, { headers: bearer(acme) }), 404, "not_found");
  });

  it("validates paging parameters", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const error = await expectError(
      await call("/v1/sessions?limit=1000", { headers: bearer(key) }),
      400,
      "validation_failed",
    );
    expect(error.message).toMatch(/limit/);
  });
});

describe("OpenAI-compatible API", () => {
  it("lists the tenant's allowed models", async () => {
    const { key } = await createKey("globex", ["chat"]);
    const body = await (await call("/v1/models", { headers: bearer(key) })).json<{
      object: string;
      data: Array<{ id: string }>;
    }>();
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["local/echo-1"]);
  });

  it("answers chat.completions with and without streaming, with the same text", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const request = { model: "local/echo-1", messages: [{ role: "user", content: "Count to three" }] };
    const plain = await call("/v1/chat/completions", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify(request),
    });
    expect(plain.status).toBe(200);
    const completion = await plain.json<{
      object: string;
      choices: Array<{ message: { content: string }; finish_reason: string }>;
      usage: { total_tokens: number };
    }>();
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.finish_reason).toBe("stop");

    const streamed = await call("/v1/chat/completions", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
    });
    const events = await readEvents(streamed);
    expect(events.at(-1)!.data).toBe("[DONE]");
    const chunks = events.slice(0, -1).map(
      (e) =>
        JSON.parse(e.data) as {
          object: string;
          choices: Array<{ delta: { content?: string } }>;
          usage?: { total_tokens: number };
        },
    );
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(completion.choices[0]!.message.content);
    expect(chunks.at(-1)!.usage!.total_tokens).toBe(completion.usage.total_tokens);
  });
});
