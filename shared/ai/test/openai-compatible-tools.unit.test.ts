import { describe, expect, it } from "vitest";
import type { CallMeta, ChatRequest, ChatStreamEvent, ToolChoice } from "../src/index";
import { createOpenAiCompatibleProvider, type FetchLike } from "../src/providers/openai-compatible";
import { collect, collectUntilError, cut, cutsACharacter, cutsALine, fixture, serve, textOf } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const STREAM = fixture("openai-chat-tools-stream.sse");
const WEATHER_CALL = { id: "call_Wq1dZ8kLmN3pR5sT", name: "get_weather", arguments: '{"city":"Zürich"}' };
const TIME_CALL = { id: "call_Xt2eA9bCdE4fG6hJ", name: "get_time", arguments: '{"tz":"Europe/Zurich"}' };
const WEATHER = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};
const TIME = { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } };
const ask: ChatRequest = {
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Weather and time in Zürich?" }],
  tools: [WEATHER, TIME],
};

interface Request {
  url: string;
  body: Record<string, unknown>;
}

function fakeFetch(respond: () => Response): FetchLike & { requests: Request[] } {
  const requests: Request[] = [];
  const fn = async (url: string, init: RequestInit) => {
    requests.push({ url, body: JSON.parse(String(init.body)) as Record<string, unknown> });
    return respond();
  };
  return Object.assign(fn, { requests });
}

const sse = (body: ReadableStream<Uint8Array>) =>
  new Response(body, { headers: { "content-type": "text/event-stream" } });
const provider = (fetch: FetchLike) => createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch });
const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe("openai-compatible provider: tools and request options", () => {
  it("sends every request option under its OpenAI name, and the conversation's tool calls and results", async () => {
    const fetch = fakeFetch(() => new Response(fixture("openai-chat.json")));
    await provider(fetch).chat(
      {
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Weather in Zürich?" },
          { role: "assistant", content: "", toolCalls: [WEATHER_CALL] },
          { role: "tool", toolCallId: "call_Wq1dZ8kLmN3pR5sT", content: '{"temp":21}' },
          { role: "assistant", content: "Let me check the time too.", toolCalls: [TIME_CALL] },
          { role: "tool", toolCallId: "call_Xt2eA9bCdE4fG6hJ", content: "14:05" },
        ],
        tools: [WEATHER, TIME],
        toolChoice: { name: "get_weather" },
        parallelToolCalls: false,
        responseFormat: {
          type: "json_schema",
          name: "weather",
          schema: { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] },
          strict: true,
          description: "A weather summary",
        },
        stop: ["\n\n", "END"],
        sampling: { topP: 0.9, seed: 7, frequencyPenalty: 0.5, presencePenalty: -0.5 },
        maxTokens: 50,
        temperature: 0,
      },
      meta,
    );
    expect(fetch.requests[0]?.body).toEqual({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Zürich?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_Wq1dZ8kLmN3pR5sT",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Zürich"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_Wq1dZ8kLmN3pR5sT", content: '{"temp":21}' },
        {
          role: "assistant",
          content: "Let me check the time too.",
          tool_calls: [
            {
              id: "call_Xt2eA9bCdE4fG6hJ",
              type: "function",
              function: { name: "get_time", arguments: '{"tz":"Europe/Zurich"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_Xt2eA9bCdE4fG6hJ", content: "14:05" },
      ],
      stream: false,
      max_tokens: 50,
      temperature: 0,
      top_p: 0.9,
      seed: 7,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      stop: ["\n\n", "END"],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Current weather for a city",
            parameters: WEATHER.parameters,
            strict: true,
          },
        },
        { type: "function", function: { name: "get_time", parameters: TIME.parameters } },
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "weather",
          schema: { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] },
          strict: true,
          description: "A weather summary",
        },
      },
    });
  });

  it.each<[ToolChoice, unknown]>([
    ["auto", "auto"],
    ["none", "none"],
    ["required", "required"],
    [{ name: "get_time" }, { type: "function", function: { name: "get_time" } }],
  ])("sends tool_choice %j as %j", async (toolChoice, wire) => {
    const fetch = fakeFetch(() => new Response(fixture("openai-chat.json")));
    await provider(fetch).chat({ ...ask, toolChoice }, meta);
    expect(fetch.requests[0]?.body.tool_choice).toEqual(wire);
  });

  it("sends json_object as such, and no tool fields when no tools are offered", async () => {
    const fetch = fakeFetch(() => new Response(fixture("openai-chat.json")));
    await provider(fetch).chat(
      {
        model: "gpt-4o-mini",
        messages: ask.messages,
        responseFormat: { type: "json_object" },
        parallelToolCalls: true,
      },
      meta,
    );
    expect(fetch.requests[0]?.body.response_format).toEqual({ type: "json_object" });
    for (const field of ["tools", "tool_choice", "parallel_tool_calls", "stop", "top_p", "seed"]) {
      expect(fetch.requests[0]?.body).not.toHaveProperty(field);
    }
  });

  it.each([[[1]], [[3, 4]], [[7, 13, 29]], [[33, 71]], [[1 << 20]]])(
    "joins streamed tool-call fragments into whole calls when reads are cut into %j-byte pieces",
    async (sizes) => {
      const chunks = cut(STREAM, sizes);
      if (chunks.length > 1) {
        expect(cutsALine(chunks)).toBe(true);
      }
      if (sizes[0] === 1) expect(cutsACharacter(chunks)).toBe(true);
      const events = await collect(provider(fakeFetch(() => sse(serve(chunks).stream))).chatStream(ask, meta));
      expect(events).toEqual([
        { type: "tool_call", call: WEATHER_CALL },
        { type: "tool_call", call: TIME_CALL },
        { type: "usage", usage: { promptTokens: 88, completionTokens: 41, totalTokens: 129 } },
        { type: "done", finishReason: "tool_calls" },
      ]);
    },
  );

  it("joins the same calls when the stream is cut at every single byte position", async () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let at = 1; at < bytes.length; at++) {
      const fetch = fakeFetch(() => sse(serve([bytes.slice(0, at), bytes.slice(at)]).stream));
      const calls = (await collect(provider(fetch).chatStream(ask, meta))).filter(
        (event) => event.type === "tool_call",
      );
      expect(calls, `cut at byte ${at}`).toEqual([
        { type: "tool_call", call: WEATHER_CALL },
        { type: "tool_call", call: TIME_CALL },
      ]);
    }
  });

  it("emits the calls as soon as the finish chunk is read, before the usage chunk arrives", async () => {
    const events = STREAM.split(/(?<=\n\n)/).map((event) => new TextEncoder().encode(event));
    const served = serve(events);
    const iterator = provider(fakeFetch(() => sse(served.stream)))
      .chatStream(ask, meta)
      [Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ type: "tool_call", call: WEATHER_CALL });
    const finishAt = events.findIndex((event) =>
      new TextDecoder().decode(event).includes('"finish_reason":"tool_calls"'),
    );
    expect(served.pulled()).toBe(finishAt + 1);
    await iterator.return?.();
  });

  it("sends the text before the calls, and gives an id to a call the upstream sent without one", async () => {
    const body =
      chunk({ role: "assistant", content: "Checking" }) +
      chunk({ content: " now." }) +
      chunk({ tool_calls: [{ index: 0, function: { name: "get_weather", arguments: '{"city":' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Bern"}' } }] }) +
      chunk({}, "tool_calls") +
      "data: [DONE]\n\n";
    const events = await collect(provider(fakeFetch(() => sse(serve(cut(body, [5])).stream))).chatStream(ask, meta));
    expect(textOf(events)).toBe("Checking now.");
    const calls = events.filter((event) => event.type === "tool_call");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.type === "tool_call" && calls[0].call).toMatchObject({
      name: "get_weather",
      arguments: '{"city":"Bern"}',
    });
    expect(calls[0]?.type === "tool_call" && calls[0].call.id).toMatch(/^call_[0-9a-f]{12}$/);
    expect(events.findIndex((event) => event.type === "tool_call")).toBeGreaterThan(
      events.findIndex((event) => event.type === "token"),
    );
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "tool_calls" });
  });

  it("drops the incomplete calls of an answer cut at length", async () => {
    const body =
      chunk({ tool_calls: [{ index: 0, id: "call_1", function: { name: "get_weather", arguments: '{"ci' } }] }) +
      chunk({}, "length") +
      "data: [DONE]\n\n";
    const events = await collect(provider(fakeFetch(() => sse(serve(cut(body, [64])).stream))).chatStream(ask, meta));
    expect(events.filter((event) => event.type === "tool_call")).toEqual([]);
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "length" });
  });

  it("fails on a streamed call without a name", async () => {
    const body =
      chunk({ tool_calls: [{ index: 0, id: "call_1", function: { arguments: "{}" } }] }) + chunk({}, "tool_calls");
    const { error } = await collectUntilError<ChatStreamEvent>(
      provider(fakeFetch(() => sse(serve(cut(body, [64])).stream))).chatStream(ask, meta),
    );
    expect(error).toMatchObject({ code: "bad_response" });
  });

  it("reads a non-stream answer whose content is null beside its tool calls", async () => {
    const result = await provider(fakeFetch(() => new Response(fixture("openai-chat-tools.json")))).chat(ask, meta);
    expect(result).toEqual({
      text: "",
      toolCalls: [WEATHER_CALL, TIME_CALL],
      usage: { promptTokens: 88, completionTokens: 41, totalTokens: 129 },
      model: "gpt-4o-mini",
      finishReason: "tool_calls",
    });
  });

  it("refuses a named tool choice that names no offered tool, as unsupported, without calling upstream", async () => {
    const fetch = fakeFetch(() => new Response(fixture("openai-chat.json")));
    const failure = await provider(fetch)
      .chat({ ...ask, toolChoice: { name: "launch_rocket" } }, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "unsupported", retryable: false });
    expect((failure as Error).message).toMatch(/^tool_choice: /);
    expect(fetch.requests).toHaveLength(0);
  });
});
