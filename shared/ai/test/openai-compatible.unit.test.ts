import { describe, expect, it } from "vitest";
import { AiError, type CallMeta, type ChatStreamEvent } from "../src/index";
import { createOpenAiCompatibleProvider, type FetchLike } from "../src/providers/openai-compatible";
import { collect, collectUntilError, cut, cutsACharacter, cutsALine, fixture, serve, textOf } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const STREAM = fixture("openai-chat-stream.sse");
const EXPECTED = fixture("openai-chat-stream.expected.txt");
const ask = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Ça va ?" }] };

interface Request {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
}

/** A fake `fetch` that records requests and answers with `respond(request)`. */
function fakeFetch(respond: (request: Request) => Response | Promise<Response>): FetchLike & { requests: Request[] } {
  const requests: Request[] = [];
  const fn = async (url: string, init: RequestInit) => {
    const request = { url, init, body: JSON.parse(String(init.body)) as Record<string, unknown> };
    requests.push(request);
    return respond(request);
  };
  return Object.assign(fn, { requests });
}

const sse = (body: ReadableStream<Uint8Array>) =>
  new Response(body, { headers: { "content-type": "text/event-stream" } });

describe("openai-compatible provider", () => {
  it.each([[[1]], [[3, 4]], [[7, 13, 29]], [[33, 71]]])(
    "parses the streamed answer exactly when reads are cut into %j-byte pieces",
    async (sizes) => {
      const chunks = cut(STREAM, sizes);
      expect(cutsALine(chunks)).toBe(true);
      expect(cutsACharacter(chunks)).toBe(true);
      const fetch = fakeFetch(() => sse(serve(chunks).stream));
      const provider = createOpenAiCompatibleProvider({
        baseUrl: "https://llm.example/v1/",
        apiKey: "sk-test",
        fetch,
      });
      const events = await collect(provider.chatStream({ ...ask, maxTokens: 100 }, meta));

      expect(textOf(events)).toBe(EXPECTED);
      expect(events.slice(-2)).toEqual([
        { type: "usage", usage: { promptTokens: 19, completionTokens: 14, totalTokens: 33 } },
        { type: "done", finishReason: "stop" },
      ]);
      const [request] = fetch.requests;
      expect(request?.url).toBe("https://llm.example/v1/chat/completions");
      expect(request?.init.method).toBe("POST");
      expect((request?.init.headers as Record<string, string> | undefined)?.authorization).toBe("Bearer sk-test");
      expect(request?.body).toEqual({
        model: "gpt-4o-mini",
        messages: ask.messages,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 100,
      });
    },
  );

  it("parses the stream cut at every single byte position", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let at = 1; at < bytes.length; at++) {
      const fetch = fakeFetch(() => sse(serve([bytes.slice(0, at), bytes.slice(at)]).stream));
      const events = await collect(
        createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }).chatStream(ask, meta),
      );
      expect(textOf(events), `cut at byte ${at}`).toBe(EXPECTED);
    }
  });

  it("turns the chunks of one read into one token, and each read into its own", async () => {
    const events = (chunks: Uint8Array[]) =>
      collect(
        createOpenAiCompatibleProvider({
          baseUrl: "https://llm.example/v1",
          fetch: fakeFetch(() => sse(serve(chunks).stream)),
        }).chatStream(ask, meta),
      );
    const whole = await events([new TextEncoder().encode(STREAM)]);
    expect(whole.filter((e) => e.type === "token")).toEqual([{ type: "token", text: EXPECTED }]);
    // One read per event: as many tokens as the upstream sent pieces, none held back.
    const perEvent = await events(STREAM.split(/(?<=\n\n)/).map((event) => new TextEncoder().encode(event)));
    const pieces = STREAM.split("\n\n").filter((e) => /"content":"[^"]/.test(e)).length;
    expect(perEvent.filter((e) => e.type === "token")).toHaveLength(pieces);
    expect(textOf(perEvent)).toBe(EXPECTED);
  });

  it("still delivers the text that came in the same read as an error event, then fails", async () => {
    const head = STREAM.split("\n\n").slice(0, 3).join("\n\n");
    const broken = `${head}\n\ndata: {"error":{"message":"model overloaded","type":"server_error"}}\n\n`;
    const fetch = fakeFetch(() => sse(serve([new TextEncoder().encode(broken)]).stream));
    const { items, error } = await collectUntilError<ChatStreamEvent>(
      createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }).chatStream(ask, meta),
    );
    expect(textOf(items)).toBe("Bonjour !");
    expect(error).toMatchObject({ code: "ai_unavailable", retryable: true });
  });

  it("reads a non-stream completion", async () => {
    const fetch = fakeFetch(() => new Response(fixture("openai-chat.json")));
    const result = await createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }).chat(ask, meta);
    expect(result).toEqual({
      text: "Bonjour ! Ça va très bien — merci 🙂",
      usage: { promptTokens: 19, completionTokens: 11, totalTokens: 30 },
      model: "gpt-4o-mini",
      finishReason: "stop",
    });
    expect(fetch.requests[0]?.body.stream).toBe(false);
    expect(fetch.requests[0]?.body).not.toHaveProperty("stream_options");
  });

  it("reads embeddings in index order and asks for the requested dimensions", async () => {
    const fetch = fakeFetch(() => new Response(fixture("openai-embeddings.json")));
    const result = await createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }).embed(
      { model: "text-embedding-3-small", texts: ["first", "second"], dimensions: 8 },
      meta,
    );
    const expected = (JSON.parse(fixture("openai-embeddings.json")) as { data: Array<{ embedding: number[] }> }).data;
    expect(result.vectors).toEqual([expected[0]?.embedding, expected[1]?.embedding]);
    expect(result.usage).toEqual({ promptTokens: 9 });
    expect(fetch.requests[0]?.url).toBe("https://llm.example/v1/embeddings");
    expect(fetch.requests[0]?.body).toEqual({
      model: "text-embedding-3-small",
      input: ["first", "second"],
      dimensions: 8,
    });
  });

  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [400, false],
    [401, false],
    [404, false],
    [422, false],
  ])("maps HTTP %i to ai_unavailable with retryable=%s, keeping the upstream message", async (status, retryable) => {
    const fetch = fakeFetch(
      () =>
        new Response(JSON.stringify({ error: { message: `upstream says ${status}`, type: "x" } }), {
          status,
        }),
    );
    const provider = createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch });
    for (const call of [() => provider.chat(ask, meta), () => collect(provider.chatStream(ask, meta))]) {
      const failure = await call().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AiError);
      expect(failure).toMatchObject({ code: "ai_unavailable", status, retryable });
      expect((failure as AiError).message).toContain(`upstream says ${status}`);
    }
  });

  it("treats a network failure as retryable", async () => {
    const fetch = fakeFetch(() => Promise.reject(new TypeError("fetch failed: ECONNREFUSED")));
    const failure = await createOpenAiCompatibleProvider({ baseUrl: "http://127.0.0.1:9", fetch })
      .chat(ask, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ai_unavailable", retryable: true });
  });

  it("surfaces an error event inside the stream as a retryable failure after the text so far", async () => {
    const head = STREAM.split("\n\n").slice(0, 3).join("\n\n");
    const broken = `${head}\n\ndata: {"error":{"message":"model overloaded","type":"server_error"}}\n\n`;
    const fetch = fakeFetch(() => sse(serve(cut(broken, [10])).stream));
    const { items, error } = await collectUntilError<ChatStreamEvent>(
      createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }).chatStream(ask, meta),
    );
    expect(textOf(items)).toBe("Bonjour !");
    expect(error).toMatchObject({ code: "ai_unavailable", retryable: true });
    expect((error as Error).message).toContain("model overloaded");
  });

  it("passes the signal to fetch and cancels the response body on abort", async () => {
    const served = serve(cut(STREAM, [40]));
    const fetch = fakeFetch(() => sse(served.stream));
    const controller = new AbortController();
    const iterator = createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch })
      .chatStream({ ...ask, signal: controller.signal }, meta)
      [Symbol.asyncIterator]();

    expect(await iterator.next()).toEqual({ done: false, value: { type: "token", text: "Bonjour" } });
    expect(fetch.requests[0]?.init.signal).toBe(controller.signal);
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: "aborted" });
    expect(served.cancelled()).toBe(true);
  });
});
