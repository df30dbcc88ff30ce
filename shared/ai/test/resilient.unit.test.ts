import { describe, expect, it } from "vitest";
import {
  AiError,
  createAi,
  createLocalProvider,
  createWorkersAiProvider,
  type AiProvider,
  type CallMeta,
  type ResilientStreamEvent,
} from "../src/index";
import { collect, collectUntilError, cut, fixture, serve, textOf } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const messages = [{ role: "user" as const, content: "Is anyone there?" }];
const ECHO = 'You said: "Is anyone there?". (local/echo-1 is an offline test model; it does not reason.)';

/** Records what the resilience layer asked of the provider, and the sleeps it took. */
function recorder(failures: AiError[] = [], inner: AiProvider = createLocalProvider()) {
  const calls: Array<{ model: string; signal?: AbortSignal }> = [];
  const sleeps: number[] = [];
  const failNext = () => {
    const failure = failures.shift();
    if (failure) throw failure;
  };
  const provider: AiProvider = {
    name: "local",
    async chat(request, callMeta) {
      calls.push({ model: request.model, ...(request.signal ? { signal: request.signal } : {}) });
      failNext();
      return inner.chat(request, callMeta);
    },
    async *chatStream(request, callMeta) {
      calls.push({ model: request.model, ...(request.signal ? { signal: request.signal } : {}) });
      failNext();
      yield* inner.chatStream(request, callMeta);
    },
    async embed(request, callMeta) {
      calls.push({ model: request.model });
      failNext();
      return inner.embed(request, callMeta);
    },
    async speech(request, callMeta) {
      calls.push({ model: request.model, ...(request.signal ? { signal: request.signal } : {}) });
      failNext();
      return inner.speech(request, callMeta);
    },
  };
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  return { provider, calls, sleeps, sleep };
}

const outage = () => new AiError("ai_unavailable", "upstream answered HTTP 503", 503, true);

describe("createAi: chatStream", () => {
  it("answers with the first model and announces it once, right before the first token", async () => {
    const { provider } = recorder();
    const events = await collect(createAi(provider).chatStream({ models: ["local/echo-1"], messages }, meta));
    expect(events[0]).toEqual({ type: "model", model: "local/echo-1" });
    expect(events[1]?.type).toBe("token");
    expect(events.filter((event) => event.type === "model")).toHaveLength(1);
    expect(textOf(events)).toBe(ECHO);
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "stop" });
  });

  it("falls back to the next model when one fails before its first token, and says which answered", async () => {
    const { provider, calls, sleeps, sleep } = recorder();
    const events = await collect(
      createAi(provider, { retries: 1, sleep }).chatStream(
        { models: ["local/fail-always", "local/echo-1-fallback"], messages },
        meta,
      ),
    );
    expect(events[0]).toEqual({ type: "model", model: "local/echo-1-fallback" });
    expect(textOf(events)).toContain('You said: "Is anyone there?"');
    expect(calls.map((call) => call.model)).toEqual([
      "local/fail-always",
      "local/fail-always",
      "local/echo-1-fallback",
    ]);
    expect(sleeps).toHaveLength(1); // one retry of the failing model; no wait before falling back
  });

  it("never switches models after the first token: the failure surfaces as an AiError", async () => {
    const { provider, calls } = recorder();
    const { items, error } = await collectUntilError<ResilientStreamEvent>(
      createAi(provider, { sleep: async () => {} }).chatStream(
        { models: ["local/fail-after-first-token", "local/echo-1"], messages },
        meta,
      ),
    );
    expect(items).toEqual([
      { type: "model", model: "local/fail-after-first-token" },
      { type: "token", text: "You" },
    ]);
    expect(error).toBeInstanceOf(AiError);
    expect((error as AiError).message).toMatch(/^local\/fail-after-first-token failed after the first token/);
    expect(calls.map((call) => call.model)).toEqual(["local/fail-after-first-token"]);
  });

  it("retries a retryable failure with exponential backoff and jitter, then answers", async () => {
    const { provider, calls, sleeps, sleep } = recorder([outage(), outage()]);
    const events = await collect(
      createAi(provider, { retries: 2, backoffMs: 100, sleep }).chatStream(
        { models: ["local/echo-1"], messages },
        meta,
      ),
    );
    expect(textOf(events)).toBe(ECHO);
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it("stops retrying after `retries` and reports every model's reason", async () => {
    const { provider, calls, sleeps, sleep } = recorder([outage(), outage(), outage()]);
    const failure = await collect(
      createAi(provider, { retries: 2, sleep }).chatStream(
        { models: ["local/echo-1", "local/fail-always"], messages },
        meta,
      ),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ code: "ai_unavailable", retryable: true });
    expect((failure as AiError).message).toBe(
      "all models failed: local/echo-1: upstream answered HTTP 503; " +
        "local/fail-always: local/fail-always: simulated outage before the first token",
    );
    expect(calls).toHaveLength(6);
    expect(sleeps).toHaveLength(4);
  });

  it("does not retry a non-retryable failure, but still falls back", async () => {
    const refused = new AiError("ai_unavailable", "upstream answered HTTP 400: bad input", 400, false);
    const { provider, calls, sleeps, sleep } = recorder([refused]);
    const events = await collect(
      createAi(provider, { sleep }).chatStream({ models: ["local/echo-1", "local/echo-1-fallback"], messages }, meta),
    );
    expect(events[0]).toEqual({ type: "model", model: "local/echo-1-fallback" });
    expect(calls.map((call) => call.model)).toEqual(["local/echo-1", "local/echo-1-fallback"]);
    expect(sleeps).toEqual([]);
  });

  it("aborts a silent model at the first-token timeout, retries it, then falls back", async () => {
    const { provider, calls, sleep } = recorder();
    const started = Date.now();
    const events = await collect(
      createAi(provider, { retries: 1, firstTokenTimeoutMs: 40, sleep }).chatStream(
        { models: ["local/slow-first-token", "local/echo-1"], messages },
        meta,
      ),
    );
    expect(events[0]).toEqual({ type: "model", model: "local/echo-1" });
    expect(textOf(events)).toBe(ECHO);
    const slow = calls.filter((call) => call.model === "local/slow-first-token");
    expect(slow).toHaveLength(2);
    expect(slow.every((call) => call.signal?.aborted)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops everything when the caller aborts while waiting for a first token", async () => {
    const { provider, calls } = recorder();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const failure = await collect(
      createAi(provider).chatStream(
        { models: ["local/slow-first-token", "local/echo-1"], messages, signal: controller.signal },
        meta,
      ),
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "aborted" });
    expect(calls.map((call) => call.model)).toEqual(["local/slow-first-token"]);
    expect(calls[0]?.signal?.aborted).toBe(true);
  });

  it("stops everything when the caller aborts during a backoff wait", async () => {
    const { provider, calls } = recorder([outage()]);
    const controller = new AbortController();
    const never = () => new Promise<void>(() => {});
    setTimeout(() => controller.abort(), 20);
    const failure = await collect(
      createAi(provider, { sleep: never }).chatStream(
        { models: ["local/echo-1"], messages, signal: controller.signal },
        meta,
      ),
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "aborted" });
    expect(calls).toHaveLength(1);
  });

  it("stops mid-answer when the caller aborts, without falling back", async () => {
    const { provider, calls } = recorder([], createLocalProvider({ tokenDelayMs: 5 }));
    const controller = new AbortController();
    const seen: ResilientStreamEvent[] = [];
    const failure = await (async () => {
      for await (const event of createAi(provider).chatStream(
        { models: ["local/echo-1", "local/echo-1-fallback"], messages, signal: controller.signal },
        meta,
      )) {
        seen.push(event);
        if (seen.length === 3) controller.abort();
      }
    })().catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "aborted" });
    expect(seen).toHaveLength(3);
    expect(calls.map((call) => call.model)).toEqual(["local/echo-1"]);
  });

  it("cancels the upstream stream when the consumer stops early", async () => {
    const served = serve(cut(fixture("workers-ai-chat-stream.sse"), [16]));
    const binding = { run: async () => served.stream };
    const ai = createAi(createWorkersAiProvider({ binding }));
    const seen: ResilientStreamEvent[] = [];
    for await (const event of ai.chatStream({ models: ["@cf/meta/llama-3.1-8b-instruct-fast"], messages }, meta)) {
      seen.push(event);
      if (event.type === "token") break;
    }
    expect(seen).toEqual([
      { type: "model", model: "@cf/meta/llama-3.1-8b-instruct-fast" },
      { type: "token", text: "Workers" },
    ]);
    expect(served.cancelled()).toBe(true);
    expect(served.pulled()).toBeLessThan(cut(fixture("workers-ai-chat-stream.sse"), [16]).length);
  });
});

describe("createAi: chat and embed", () => {
  it("chat falls back like chatStream and reports the answering model", async () => {
    const { provider, sleep } = recorder();
    const result = await createAi(provider, { retries: 0, sleep }).chat(
      { models: ["local/fail-always", "local/echo-1"], messages },
      meta,
    );
    expect(result.model).toBe("local/echo-1");
    expect(result.text).toBe(ECHO);
  });

  it("chat gives up on a silent model after requestTimeoutMs", async () => {
    const { provider, sleep } = recorder();
    const result = await createAi(provider, { retries: 0, requestTimeoutMs: 30, sleep }).chat(
      { models: ["local/slow-first-token", "local/echo-1"], messages },
      meta,
    );
    expect(result.model).toBe("local/echo-1");
  });

  it("embed retries a transient failure", async () => {
    const { provider, calls, sleeps, sleep } = recorder([outage()]);
    const result = await createAi(provider, { sleep }).embed({ model: "local/hash-embed-384", texts: ["a b c"] }, meta);
    expect(result.vectors[0]).toHaveLength(384);
    expect(calls).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });
});

describe("createAi: speech", () => {
  const speech = { model: "local/tts-1", input: "Hello there.", voice: "alloy" };
  const bytesOf = async (audio: ReadableStream<Uint8Array> | Uint8Array) =>
    new Uint8Array(await new Response(audio).arrayBuffer());

  it("retries a transient failure, then returns the audio", async () => {
    const { provider, calls, sleeps, sleep } = recorder([outage()]);
    const result = await createAi(provider, { sleep }).speech(speech, meta);
    const direct = await createLocalProvider().speech(speech, meta);
    expect(await bytesOf(result.audio)).toEqual(await bytesOf(direct.audio));
    expect(result).toMatchObject({ model: "local/tts-1", contentType: "audio/wav", characters: 12 });
    expect(calls).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it("throws unsupported at once, without retrying", async () => {
    const { provider, calls, sleeps, sleep } = recorder();
    const failure = await createAi(provider, { retries: 2, sleep })
      .speech({ ...speech, format: "mp3" }, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "unsupported" });
    expect((failure as AiError).message).toMatch(/^response_format: /);
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("times out a model whose audio never starts, but not audio that streams slowly once started", async () => {
    const silent: AiProvider = {
      ...createLocalProvider(),
      speech: (request) =>
        new Promise((_, reject) => request.signal?.addEventListener("abort", () => reject(new Error("aborted")))),
    };
    const failure = await createAi(silent, { retries: 0, requestTimeoutMs: 30 })
      .speech(speech, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ai_unavailable" });
    expect((failure as AiError).message).toMatch(/did not answer within 30 ms/);

    const slow: AiProvider = {
      ...createLocalProvider(),
      async speech(request) {
        let sent = 0;
        const audio = new ReadableStream<Uint8Array>({
          async pull(controller) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            if (sent++ < 4) controller.enqueue(new Uint8Array([sent]));
            else controller.close();
          },
        });
        return { audio, contentType: "audio/pcm", model: request.model, characters: request.input.length };
      },
    };
    const result = await createAi(slow, { retries: 0, requestTimeoutMs: 30 }).speech(speech, meta);
    expect(await bytesOf(result.audio)).toEqual(new Uint8Array([1, 2, 3, 4]));
  });
});

describe("createAi: tool calls and unsupported requests", () => {
  const tools = [{ name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];
  const toolMessages = [{ role: "user" as const, content: 'get_weather {"city":"Bern"}' }];

  it("announces the model right before an answer's first tool call, and passes the calls through", async () => {
    const { provider } = recorder();
    const events = await collect(
      createAi(provider).chatStream({ models: ["local/echo-1"], messages: toolMessages, tools }, meta),
    );
    expect(events.map((event) => event.type)).toEqual(["model", "tool_call", "usage", "done"]);
    expect(events[0]).toEqual({ type: "model", model: "local/echo-1" });
    expect(events[1]).toMatchObject({ type: "tool_call", call: { name: "get_weather", arguments: '{"city":"Bern"}' } });
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "tool_calls" });
  });

  it("chat returns the tool calls of the model that answered", async () => {
    const { provider, sleep } = recorder();
    const result = await createAi(provider, { retries: 0, sleep }).chat(
      { models: ["local/fail-always", "local/echo-1"], messages: toolMessages, tools },
      meta,
    );
    expect(result.model).toBe("local/echo-1");
    expect(result.finishReason).toBe("tool_calls");
    expect(result.toolCalls).toMatchObject([{ name: "get_weather", arguments: '{"city":"Bern"}' }]);
  });

  it("never falls back after a tool call: a later failure surfaces naming that model", async () => {
    const { provider, calls } = recorder();
    const { items, error } = await collectUntilError<ResilientStreamEvent>(
      createAi(provider, { sleep: async () => {} }).chatStream(
        { models: ["local/fail-after-first-token", "local/echo-1"], messages: toolMessages, tools },
        meta,
      ),
    );
    expect(items.map((event) => event.type)).toEqual(["model", "tool_call"]);
    expect((error as AiError).message).toMatch(/^local\/fail-after-first-token failed after the first token/);
    expect(calls.map((call) => call.model)).toEqual(["local/fail-after-first-token"]);
  });

  it("throws unsupported as it is: no retry, no fallback, not wrapped in 'all models failed'", async () => {
    const responseFormat = {
      type: "json_schema" as const,
      name: "x",
      schema: { type: "object", properties: { a: { oneOf: [{ type: "string" }] } } },
    };
    for (const call of ["chatStream", "chat"] as const) {
      const { provider, calls, sleeps, sleep } = recorder();
      const ai = createAi(provider, { retries: 2, sleep });
      const request = { models: ["local/echo-1", "local/echo-1-fallback"], messages, responseFormat };
      const failure = await (call === "chat" ? ai.chat(request, meta) : collect(ai.chatStream(request, meta))).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(AiError);
      expect(failure).toMatchObject({ code: "unsupported", retryable: false });
      expect((failure as AiError).message).toMatch(/^response_format: json_schema keyword "oneOf"/);
      expect(calls.map((c) => c.model)).toEqual(["local/echo-1"]);
      expect(sleeps).toEqual([]);
    }
  });
});
