import { describe, expect, it } from "vitest";
import type { CallMeta, ChatRequest } from "../src/index";
import { type AiBinding, createWorkersAiProvider } from "../src/providers/workers-ai";
import { toolCallId } from "../src/tool-wire";
import { collect, cut, fixture, fixtureJson, serve, textOf } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast";
const STREAM = fixture("workers-ai-chat-stream.sse");

interface Call {
  model: string;
  input: Record<string, unknown>;
}

function fakeBinding(answer: (call: Call) => unknown): AiBinding & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(model, input) {
      const call = { model, input } as Call;
      calls.push(call);
      return answer(call);
    },
  };
}

const WEATHER = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "City name" } },
    required: ["city"],
  },
  strict: true,
};
const TIME = {
  name: "get_time",
  parameters: { type: "object", properties: { tz: { type: "string", description: "IANA zone" } } },
};
const messages = [{ role: "user" as const, content: "Weather and time in Zürich?" }];
const ask: ChatRequest = { model: MODEL, messages, tools: [WEATHER, TIME] };

describe("workers-ai provider: tools and request options", () => {
  it("reads Workers AI's own tool_calls shape (arguments as objects) and gives the calls stable ids", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat-tools.json"));
    const provider = createWorkersAiProvider({ binding });
    const result = await provider.chat(ask, meta);
    expect(result).toEqual({
      text: "",
      toolCalls: [
        { id: toolCallId(1, 0, "get_weather"), name: "get_weather", arguments: '{"city":"Zürich"}' },
        { id: toolCallId(1, 1, "get_time"), name: "get_time", arguments: '{"tz":"Europe/Zurich"}' },
      ],
      usage: { promptTokens: 212, completionTokens: 38, totalTokens: 250 },
      model: MODEL,
      finishReason: "tool_calls",
    });
    expect((await provider.chat(ask, meta)).toolCalls).toEqual(result.toolCalls);
  });

  it("reads the OpenAI-format tool calls newer models return, keeping their ids", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat-tools-openai.json"));
    const result = await createWorkersAiProvider({ binding }).chat({ ...ask, model: "@cf/openai/gpt-oss-20b" }, meta);
    expect(result.text).toBe("");
    expect(result.toolCalls).toEqual([
      { id: "chatcmpl-tool-5f1c2e9a", name: "get_weather", arguments: '{"city":"Zürich"}' },
    ]);
    expect(result.finishReason).toBe("tool_calls");
  });

  it("sends tools in the documented form, the sampling options, and the conversation's tool calls", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat-tools.json"));
    await createWorkersAiProvider({ binding }).chat(
      {
        ...ask,
        messages: [
          ...messages,
          { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "get_weather", arguments: "{}" }] },
          { role: "tool", toolCallId: "call_1", content: '{"temp":21}' },
        ],
        sampling: { topP: 0.9, seed: 7, frequencyPenalty: 0.5, presencePenalty: 0.1 },
        stop: ["END"],
        maxTokens: 300,
      },
      meta,
    );
    expect(binding.calls[0]?.input).toEqual({
      messages: [
        ...messages,
        {
          role: "assistant",
          content: "",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }],
        },
        { role: "tool", content: '{"temp":21}', tool_call_id: "call_1", name: "get_weather" },
      ],
      stream: false,
      max_tokens: 300,
      top_p: 0.9,
      seed: 7,
      frequency_penalty: 0.5,
      presence_penalty: 0.1,
      tools: [
        {
          type: "function",
          function: { name: "get_weather", description: "Current weather for a city", parameters: WEATHER.parameters },
        },
        { type: "function", function: { name: "get_time", description: "", parameters: TIME.parameters } },
      ],
    });
  });

  it("applies tool_choice itself: none sends no tools, a named choice offers only that tool", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat.json"));
    const provider = createWorkersAiProvider({ binding });
    await provider.chat({ ...ask, toolChoice: "none" }, meta);
    await provider.chat({ ...ask, toolChoice: { name: "get_time" } }, meta);
    expect(binding.calls[0]?.input).not.toHaveProperty("tools");
    expect(binding.calls[0]?.input).not.toHaveProperty("tool_choice");
    expect(
      ((binding.calls[1]?.input.tools ?? []) as Array<{ function: { name: string } }>).map((t) => t.function.name),
    ).toEqual(["get_time"]);
  });

  it("keeps only the first call when parallelToolCalls is false", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat-tools.json"));
    const result = await createWorkersAiProvider({ binding }).chat({ ...ask, parallelToolCalls: false }, meta);
    expect(result.toolCalls?.map((call) => call.name)).toEqual(["get_weather"]);
  });

  it("streams with tools by one non-stream call replayed as events", async () => {
    const binding = fakeBinding(() => ({
      ...(fixtureJson("workers-ai-chat-tools.json") as Record<string, unknown>),
      response: "Let me look.",
    }));
    const events = await collect(createWorkersAiProvider({ binding }).chatStream(ask, meta));
    expect(binding.calls[0]?.input.stream).toBe(false);
    expect(events).toEqual([
      { type: "token", text: "Let me look." },
      {
        type: "tool_call",
        call: { id: toolCallId(1, 0, "get_weather"), name: "get_weather", arguments: '{"city":"Zürich"}' },
      },
      {
        type: "tool_call",
        call: { id: toolCallId(1, 1, "get_time"), name: "get_time", arguments: '{"tz":"Europe/Zurich"}' },
      },
      { type: "usage", usage: { promptTokens: 212, completionTokens: 38, totalTokens: 250 } },
      { type: "done", finishReason: "tool_calls" },
    ]);
  });

  it("streams a plain answer when tools were offered but none was called", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat.json"));
    const events = await collect(createWorkersAiProvider({ binding }).chatStream(ask, meta));
    expect(textOf(events)).toBe("Workers AI runs at the edge — café ☕\n\n東京 🚀 naïve.");
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "stop" });
  });

  it("uses JSON mode as documented (the schema itself), returning an object response as JSON text", async () => {
    const schema = {
      type: "object",
      properties: { name: { type: "string" }, capital: { type: "string" } },
      required: ["name", "capital"],
    };
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat-json.json"));
    const provider = createWorkersAiProvider({ binding });
    const request: ChatRequest = {
      model: MODEL,
      messages,
      responseFormat: { type: "json_schema", name: "country", schema, strict: true },
    };
    const result = await provider.chat(request, meta);
    expect(JSON.parse(result.text)).toEqual({ name: "India", capital: "New Delhi", languages: ["Hindi", "English"] });
    expect(binding.calls[0]?.input.response_format).toEqual({ type: "json_schema", json_schema: schema });

    // JSON mode does not stream: chatStream asks for the whole answer and replays it.
    const events = await collect(provider.chatStream(request, meta));
    expect(binding.calls[1]?.input.stream).toBe(false);
    expect(textOf(events)).toBe(result.text);
    await provider.chat({ model: MODEL, messages, responseFormat: { type: "json_object" } }, meta);
    expect(binding.calls[2]?.input.response_format).toEqual({ type: "json_object" });
  });

  it.each([[[1]], [[3, 5]], [[1 << 20]]])(
    "applies stop sequences itself, across streamed tokens (reads of %j bytes), and cancels the stream",
    async (sizes) => {
      const served = serve(cut(STREAM, sizes));
      const binding = fakeBinding(() => served.stream);
      const events = await collect(
        createWorkersAiProvider({ binding }).chatStream({ model: MODEL, messages, stop: ["edge — caf"] }, meta),
      );
      expect(binding.calls[0]?.input).not.toHaveProperty("stop");
      expect(textOf(events)).toBe("Workers AI runs at the ");
      expect(events.at(-1)).toEqual({ type: "done", finishReason: "stop" });
      expect(events.filter((event) => event.type === "usage")).toHaveLength(1);
      expect(served.cancelled()).toBe(true);
    },
  );

  it("applies stop sequences to a non-stream answer", async () => {
    const binding = fakeBinding(() => fixtureJson("workers-ai-chat.json"));
    const result = await createWorkersAiProvider({ binding }).chat({ model: MODEL, messages, stop: ["\n\n"] }, meta);
    expect(result.text).toBe("Workers AI runs at the edge — café ☕");
    expect(result.finishReason).toBe("stop");
  });
});
