import { describe, expect, it } from "vitest";
import { AiError, type CallMeta, type ChatStreamEvent } from "../src/index";
import { createWorkersAiProvider, type AiBinding } from "../src/providers/workers-ai";
import {
  collect,
  collectUntilError,
  cut,
  cutsACharacter,
  cutsALine,
  fixture,
  fixtureJson,
  serve,
  textOf,
} from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const STREAM = fixture("workers-ai-chat-stream.sse");
const EXPECTED = fixture("workers-ai-chat-stream.expected.txt");
const MODEL = "@cf/meta/llama-3.1-8b-instruct-fast";

interface Call {
  model: string;
  input: Record<string, unknown>;
  options: { gateway: { id: string; metadata: Record<string, unknown> }; signal?: AbortSignal };
}

/** A fake `AI` binding that records each call and answers with `answer(call)`. */
function fakeBinding(answer: (call: Call) => unknown): AiBinding & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(model, input, options) {
      const call = { model, input, options } as Call;
      calls.push(call);
      return answer(call);
    },
  };
}

const ask = { model: MODEL, messages: [{ role: "user" as const, content: "Where do Workers run?" }] };

describe("workers-ai provider", () => {
  it.each([[[1]], [[2, 3]], [[5, 7, 11]], [[13, 29]]])(
    "parses the streamed answer exactly when reads are cut into %j-byte pieces",
    async (sizes) => {
      const chunks = cut(STREAM, sizes);
      expect(cutsALine(chunks)).toBe(true);
      expect(cutsACharacter(chunks)).toBe(true);
      const binding = fakeBinding(() => serve(chunks).stream);
      const events = await collect(createWorkersAiProvider({ binding }).chatStream(ask, meta));

      expect(textOf(events)).toBe(EXPECTED);
      expect(events.slice(-2)).toEqual([
        { type: "usage", usage: { promptTokens: 31, completionTokens: 17, totalTokens: 48 } },
        { type: "done", finishReason: "stop" },
      ]);
    },
  );

  it("parses the stream delivered in one read", async () => {
    const binding = fakeBinding(() => serve(cut(STREAM, [1 << 20])).stream);
    const events = await collect(createWorkersAiProvider({ binding }).chatStream(ask, meta));
    expect(textOf(events)).toBe(EXPECTED);
  });

  it("parses the stream cut at every single byte position", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let at = 1; at < bytes.length; at++) {
      const binding = fakeBinding(() => serve([bytes.slice(0, at), bytes.slice(at)]).stream);
      const events = await collect(createWorkersAiProvider({ binding }).chatStream(ask, meta));
      expect(textOf(events), `cut at byte ${at}`).toBe(EXPECTED);
    }
  });

  it("streams through AI Gateway with the tenant in metadata, at most 5 keys", async () => {
    const binding = fakeBinding(() => serve(cut(STREAM, [13])).stream);
    const provider = createWorkersAiProvider({ binding });
    const events = await collect(
      provider.chatStream(
        { ...ask, maxTokens: 512, temperature: 0.2 },
        {
          ...meta,
          metadata: { route: "chat", sessionId: "s-9", plan: "pro", extra: "dropped", tenantId: "spoofed" },
        },
      ),
    );

    expect(textOf(events)).toBe(EXPECTED);
    const [call] = binding.calls;
    expect(call?.model).toBe(MODEL);
    expect(call?.input).toEqual({ messages: ask.messages, stream: true, max_tokens: 512, temperature: 0.2 });
    expect(call?.options.gateway).toEqual({
      id: "acme-gw",
      metadata: { tenantId: "acme", requestId: "req-1", route: "chat", sessionId: "s-9", plan: "pro" },
    });
    expect(Object.keys(call?.options.gateway.metadata ?? {}).length).toBeLessThanOrEqual(5);
  });

  it("reads the non-stream answer and its usage, through the gateway", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat.json"));
    const result = await createWorkersAiProvider({ binding }).chat(ask, meta);

    expect(result).toEqual({
      text: "Workers AI runs at the edge — café ☕\n\n東京 🚀 naïve.",
      usage: { promptTokens: 31, completionTokens: 17, totalTokens: 48 },
      model: MODEL,
      finishReason: "stop",
    });
    expect(binding.calls[0]?.input.stream).toBe(false);
    expect(binding.calls[0]?.options.gateway).toEqual({
      id: "acme-gw",
      metadata: { tenantId: "acme", requestId: "req-1" },
    });
  });

  it("reports a completion that used all of maxTokens as cut at length", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat.json"));
    const result = await createWorkersAiProvider({ binding }).chat({ ...ask, maxTokens: 17 }, meta);
    expect(result.finishReason).toBe("length");
  });

  it("sends context passages numbered in the system prompt", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat.json"));
    await createWorkersAiProvider({ binding }).chat(
      {
        ...ask,
        messages: [{ role: "system", content: "Be brief." }, ...ask.messages],
        context: [
          { id: "d1", title: "Edge", text: "Workers run in 300 cities." },
          { id: "d2", text: "Durable Objects are single-threaded." },
        ],
      },
      meta,
    );
    const messages = binding.calls[0]?.input.messages as Array<{ role: string; content: string }>;
    expect(messages).toHaveLength(2);
    expect(messages[0]?.role).toBe("system");
    expect(messages[0]?.content).toMatch(/^Be brief\.\n\n/);
    expect(messages[0]?.content).toContain("[1] Edge: Workers run in 300 cities.");
    expect(messages[0]?.content).toContain("[2] Durable Objects are single-threaded.");
  });

  it("embeds a batch of texts through the gateway", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-embeddings.json"));
    const result = await createWorkersAiProvider({ binding }).embed(
      { model: "@cf/baai/bge-base-en-v1.5", texts: ["first text", "second text"], dimensions: 768 },
      meta,
    );

    expect(result.vectors).toHaveLength(2);
    expect(result.vectors.every((vector) => vector.length === 768)).toBe(true);
    expect(result.model).toBe("@cf/baai/bge-base-en-v1.5");
    expect(binding.calls[0]?.input).toEqual({ text: ["first text", "second text"] });
    expect(binding.calls[0]?.options.gateway.metadata.tenantId).toBe("acme");
  });

  it("refuses a width the model cannot produce as unsupported (a 400 naming dimensions)", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-embeddings.json"));
    const failure = await createWorkersAiProvider({ binding })
      .embed({ model: "@cf/baai/bge-base-en-v1.5", texts: ["a", "b"], dimensions: 384 }, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "unsupported", retryable: false });
    expect((failure as Error).message).toMatch(/^dimensions: .* produces 768-dimensional vectors, not 384$/);
  });

  it.each([
    ["3040: Capacity temporarily exceeded, please try again.", 429, true],
    ["InferenceUpstreamError: 3036: You have used up your daily free allocation", 429, true],
    ["3007: Request timeout", 408, true],
    ["5007: No such model @cf/nope or task", 400, false],
    ["3042: The model name is invalid", 404, false],
  ])("maps the binding error %j to HTTP %i (retryable: %s)", async (message, status, retryable) => {
    const binding = fakeBinding(() => {
      throw new Error(message);
    });
    const failure = await createWorkersAiProvider({ binding })
      .chat(ask, meta)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ code: "ai_unavailable", status, retryable });
  });

  it("treats a binding failure without a documented code as transient", async () => {
    const binding = fakeBinding(() => {
      throw new Error("AiInternalError: internal server error");
    });
    const failure = await createWorkersAiProvider({ binding })
      .chat(ask, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ai_unavailable", retryable: true });
  });

  it("fails retryably when the stream breaks off before [DONE]", async () => {
    const truncated = STREAM.slice(0, STREAM.indexOf('data: {"response":"東京"'));
    const binding = fakeBinding(() => serve(cut(truncated, [9])).stream);
    const { items, error } = await collectUntilError<ChatStreamEvent>(
      createWorkersAiProvider({ binding }).chatStream(ask, meta),
    );
    expect(textOf(items)).toBe("Workers AI runs at the edge — café ☕\n\n");
    expect(error).toMatchObject({ code: "ai_unavailable", retryable: true });
  });

  it("cancels the binding's stream when aborted mid-answer", async () => {
    const served = serve(cut(STREAM, [20]));
    const binding = fakeBinding(() => served.stream);
    const controller = new AbortController();
    const iterator = createWorkersAiProvider({ binding })
      .chatStream({ ...ask, signal: controller.signal }, meta)
      [Symbol.asyncIterator]();

    expect(await iterator.next()).toEqual({ done: false, value: { type: "token", text: "Workers" } });
    expect(binding.calls[0]?.options.signal).toBe(controller.signal);
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: "aborted" });
    expect(served.cancelled()).toBe(true);
  });
});
