import { describe, expect, it } from "vitest";
import {
  createLocalProvider,
  estimateRequestTokens,
  estimateTokens,
  type CallMeta,
  type ChatMessage,
  type ChatRequest,
  type ToolSpec,
} from "../src/index";
import { collect, textOf } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const local = createLocalProvider();

const object = (properties: Record<string, unknown> = {}) => ({ type: "object", properties });
const TOOLS: ToolSpec[] = [
  { name: "get_weather", description: "Weather for a city", parameters: object({ city: { type: "string" } }) },
  { name: "get_time", parameters: object({ tz: { type: "string" } }) },
  { name: "search_docs", parameters: object({ query: { type: "string" } }) },
];

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "local/echo-1",
  messages: [{ role: "user", content }],
  tools: TOOLS,
  ...extra,
});

const ECHO = (text: string) => `You said: "${text}". (local/echo-1 is an offline test model; it does not reason.)`;

describe("local provider: the tool rule", () => {
  it("calls a remote MCP tool by its dotted name, and not a plain tool whose name ends it", async () => {
    const tools: ToolSpec[] = [
      { name: "echo", parameters: object({ text: { type: "string" } }) },
      { name: "docs.echo", parameters: object({ text: { type: "string" } }) },
    ];
    const result = await local.chat(ask('Use docs.echo {"text": "hi"} now', { tools }), meta);
    expect(result.toolCalls?.map((call) => [call.name, call.arguments])).toEqual([["docs.echo", '{"text":"hi"}']]);
  });

  it("calls a tool named in the message with the JSON object after its name, streamed or not", async () => {
    const request = ask('Please get_weather {"city": "Zürich"} for me');
    const result = await local.chat(request, meta);
    expect(result.text).toBe("");
    expect(result.finishReason).toBe("tool_calls");
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_[0-9a-f]{12}$/), name: "get_weather", arguments: '{"city":"Zürich"}' },
    ]);
    const events = await collect(local.chatStream(request, meta));
    expect(events).toEqual([
      { type: "tool_call", call: result.toolCalls?.[0] },
      { type: "usage", usage: result.usage },
      { type: "done", finishReason: "tool_calls" },
    ]);
    expect(result.usage.promptTokens).toBe(estimateRequestTokens(request.messages, TOOLS));
    expect((await local.chat(request, meta)).toolCalls).toEqual(result.toolCalls);
  });

  it("calls every tool named, in order of appearance, each with its own arguments or {}", async () => {
    const result = await local.chat(ask('First get_time {"tz":"UTC"}, then search_docs, then get_weather.'), meta);
    expect(result.toolCalls?.map(({ name, arguments: args }) => [name, args])).toEqual([
      ["get_time", '{"tz":"UTC"}'],
      ["search_docs", "{}"],
      ["get_weather", "{}"],
    ]);
    expect(new Set(result.toolCalls?.map((call) => call.id)).size).toBe(3);
  });

  it("only counts whole words: get_weather_forecast does not name get_weather", async () => {
    const result = await local.chat(ask("What does get_weather_forecast do?"), meta);
    expect(result.toolCalls).toBeUndefined();
    expect(result.text).toBe(ECHO("What does get_weather_forecast do?"));
  });

  it("calls only the first named tool when parallelToolCalls is false", async () => {
    const result = await local.chat(ask("search_docs and get_time", { parallelToolCalls: false }), meta);
    expect(result.toolCalls?.map((call) => call.name)).toEqual(["search_docs"]);
  });

  it('"required" with no tool named calls the first offered tool with {}', async () => {
    const result = await local.chat(ask("Hello there", { toolChoice: "required" }), meta);
    expect(result.toolCalls?.map(({ name, arguments: args }) => [name, args])).toEqual([["get_weather", "{}"]]);
  });

  it("a named toolChoice calls exactly that tool, with its arguments when the message names it", async () => {
    const named = await local.chat(
      ask('get_weather and get_time {"tz":"CET"}', { toolChoice: { name: "get_time" } }),
      meta,
    );
    expect(named.toolCalls?.map(({ name, arguments: args }) => [name, args])).toEqual([["get_time", '{"tz":"CET"}']]);
    const unnamed = await local.chat(ask("Hello there", { toolChoice: { name: "search_docs" } }), meta);
    expect(unnamed.toolCalls?.map((call) => call.name)).toEqual(["search_docs"]);
  });

  it('"none" and "auto" with no tool named give the usual text answer', async () => {
    for (const toolChoice of ["none", "auto"] as const) {
      const result = await local.chat(
        ask(toolChoice === "none" ? "get_weather now" : "Hello there", { toolChoice }),
        meta,
      );
      expect(result.toolCalls).toBeUndefined();
      expect(result.finishReason).toBe("stop");
      expect(result.text).toBe(ECHO(toolChoice === "none" ? "get_weather now" : "Hello there"));
    }
  });

  it("after tool results, answers with text reporting them, which ends the loop", async () => {
    const first = await local.chat(ask('get_weather {"city":"Bern"} and get_time'), meta);
    const calls = first.toolCalls ?? [];
    const messages: ChatMessage[] = [
      { role: "user", content: 'get_weather {"city":"Bern"} and get_time' },
      { role: "assistant", content: "", toolCalls: calls },
      { role: "tool", toolCallId: calls[0]?.id ?? "", content: '{"temp":21,\n "sky":"clear"}' },
      { role: "tool", toolCallId: calls[1]?.id ?? "", content: "14:05" },
    ];
    const request = ask("", { messages });
    const result = await local.chat(request, meta);
    expect(result.text).toBe('Tool get_weather returned: {"temp":21, "sky":"clear"}. Tool get_time returned: 14:05.');
    expect(result.finishReason).toBe("stop");
    expect(result.toolCalls).toBeUndefined();
    expect(textOf(await collect(local.chatStream(request, meta)))).toBe(result.text);
    expect(result.usage.promptTokens).toBe(estimateRequestTokens(messages, TOOLS));
    expect(result.usage.promptTokens).toBeGreaterThan(estimateTokens(JSON.stringify(TOOLS)));
  });

  it("local/tool-loop calls the first offered tool on every answer, even after tool results, unless none", async () => {
    const messages: ChatMessage[] = [{ role: "user", content: "Loop please" }];
    for (let step = 0; step < 3; step++) {
      const result = await local.chat(ask("", { model: "local/tool-loop", messages }), meta);
      expect(result.finishReason).toBe("tool_calls");
      const [call] = result.toolCalls ?? [];
      expect(call?.name).toBe("get_weather");
      messages.push({ role: "assistant", content: "", toolCalls: result.toolCalls ?? [] });
      messages.push({ role: "tool", toolCallId: call?.id ?? "", content: `result ${step}` });
    }
    const ids = messages.flatMap((message) => message.toolCalls ?? []).map((call) => call.id);
    expect(new Set(ids).size).toBe(3);
    const none = await local.chat(ask("", { model: "local/tool-loop", messages, toolChoice: "none" }), meta);
    expect(none.toolCalls).toBeUndefined();
  });

  it("refuses a named toolChoice that is not offered, as unsupported naming tool_choice", async () => {
    const failure = await local.chat(ask("hi", { toolChoice: { name: "nope" } }), meta).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "unsupported", retryable: false });
    expect((failure as Error).message).toMatch(/^tool_choice: /);
  });
});

describe("local provider: response_format and stop", () => {
  const plain = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
    model: "local/echo-1",
    messages: [{ role: "user", content }],
    ...extra,
  });

  it("json_object answers with the text as a JSON object, streamed as the same text", async () => {
    const request = plain("Hello there", { responseFormat: { type: "json_object" } });
    const result = await local.chat(request, meta);
    expect(JSON.parse(result.text)).toEqual({ answer: ECHO("Hello there") });
    expect(textOf(await collect(local.chatStream(request, meta)))).toBe(result.text);
  });

  it("json_schema answers with a deterministic instance, the answer in the first string", async () => {
    const schema = {
      type: "object",
      properties: {
        summary: { type: "string", description: "What was said" },
        mood: { type: "string", enum: ["calm", "angry"] },
        score: { type: "number", minimum: 1, maximum: 5 },
        count: { type: "integer" },
        urgent: { type: "boolean" },
        tags: { type: "array", items: { type: "string" } },
        pair: { type: "array", items: { type: "integer" }, minItems: 2 },
        kind: { const: "note" },
        author: {
          type: "object",
          properties: { name: { type: "string" }, email: { type: ["string", "null"] } },
          required: ["name", "email"],
          additionalProperties: false,
        },
      },
      required: ["summary", "mood", "score", "count", "urgent", "tags", "pair", "kind", "author"],
      additionalProperties: false,
    };
    const request = plain("Hello there", {
      responseFormat: { type: "json_schema", name: "note", schema, strict: true },
    });
    const result = await local.chat(request, meta);
    expect(JSON.parse(result.text)).toEqual({
      summary: ECHO("Hello there"),
      mood: "calm",
      score: 1,
      count: 0,
      urgent: false,
      tags: [],
      pair: [0, 0],
      kind: "note",
      author: { name: "", email: "" },
    });
    expect((await local.chat(request, meta)).text).toBe(result.text);
  });

  it.each([
    [{ type: "object", properties: { a: { anyOf: [{ type: "string" }, { type: "number" }] } } }, '"anyOf"'],
    [{ type: "object", properties: { when: { type: "string", format: "date-time" } } }, '"format"'],
    [{ type: "object", properties: { items: { type: "array", items: { $ref: "#/$defs/x" } } } }, '"$ref"'],
  ])("refuses a schema it cannot honour (%j) as unsupported, before any token", async (schema, keyword) => {
    const request = plain("hi", { responseFormat: { type: "json_schema", name: "x", schema } });
    const failure = await local.chat(request, meta).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "unsupported", retryable: false });
    expect((failure as Error).message).toMatch(/^response_format: json_schema keyword /);
    expect((failure as Error).message).toContain(keyword);
    expect((failure as Error).message).toContain("is not supported by local/echo-1");
    const streamed: unknown[] = [];
    const streamFailure = await (async () => {
      for await (const event of local.chatStream(request, meta)) streamed.push(event);
    })().catch((e: unknown) => e);
    expect(streamed).toEqual([]);
    expect(streamFailure).toMatchObject({ code: "unsupported" });
  });

  it("ends the answer before the first stop sequence, streamed or not", async () => {
    const request = plain("alpha beta gamma", { stop: ["gamma", " beta"] });
    const result = await local.chat(request, meta);
    expect(result.text).toBe('You said: "alpha');
    expect(result.finishReason).toBe("stop");
    const events = await collect(local.chatStream(request, meta));
    expect(textOf(events)).toBe(result.text);
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "stop" });
  });
});
