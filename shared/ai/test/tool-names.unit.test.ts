import { describe, expect, it } from "vitest";
import type { CallMeta, ChatRequest, ChatStreamEvent } from "../src/index";
import { createOpenAiCompatibleProvider, type FetchLike } from "../src/providers/openai-compatible";
import { withWireToolNames, wireNamesFor } from "../src/tool-names";
import { collect } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const params = { type: "object", properties: { text: { type: "string" } } };
const ECHO = { name: "docs.echo", description: "Echo from the docs MCP server", parameters: params };
const PLAIN = { name: "get_time", parameters: params };

function fakeFetch(respond: () => Response): FetchLike & { bodies: Array<Record<string, unknown>> } {
  const bodies: Array<Record<string, unknown>> = [];
  const fn = async (_url: string, init: RequestInit) => {
    bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
    return respond();
  };
  return Object.assign(fn, { bodies });
}

const completion = (name: string) =>
  new Response(
    JSON.stringify({
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name, arguments: '{"text":"hi"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    }),
  );

describe("wire-safe tool names", () => {
  it("sends `<server>.<tool>` as `<server>__<tool>` and reads the model's call back under the registry name", async () => {
    const fetch = fakeFetch(() => completion("docs__echo"));
    const provider = withWireToolNames(createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }));
    const request: ChatRequest = {
      model: "gpt-4o-mini",
      messages: [
        { role: "user", content: "echo hi" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_0", name: "docs.echo", arguments: "{}" }] },
        { role: "tool", toolCallId: "call_0", content: "hi" },
      ],
      tools: [ECHO, PLAIN],
      toolChoice: { name: "docs.echo" },
    };
    const result = await provider.chat(request, meta);

    const sent = fetch.bodies[0]!;
    expect((sent.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
      "docs__echo",
      "get_time",
    ]);
    expect(sent.tool_choice).toEqual({ type: "function", function: { name: "docs__echo" } });
    const history = sent.messages as Array<{ tool_calls?: Array<{ function: { name: string } }> }>;
    expect(history[1]?.tool_calls?.[0]?.function.name).toBe("docs__echo");
    expect(result.toolCalls).toEqual([{ id: "call_1", name: "docs.echo", arguments: '{"text":"hi"}' }]);
    // The caller's request is not changed in place.
    expect(request.tools?.[0]?.name).toBe("docs.echo");
  });

  it("renames streamed tool calls back too", async () => {
    const chunk = (delta: unknown, finish: string | null = null) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const body = [
      chunk({ tool_calls: [{ index: 0, id: "call_9", function: { name: "docs__echo", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"text":"x"}' } }] }),
      chunk({}, "tool_calls"),
      "data: [DONE]\n\n",
    ].join("");
    const fetch = fakeFetch(() => new Response(body, { headers: { "content-type": "text/event-stream" } }));
    const provider = withWireToolNames(createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch }));
    const events: ChatStreamEvent[] = await collect(
      provider.chatStream({ model: "m", messages: [{ role: "user", content: "x" }], tools: [ECHO] }, meta),
    );
    const calls = events.flatMap((event) => (event.type === "tool_call" ? [event.call] : []));
    expect(calls).toEqual([{ id: "call_9", name: "docs.echo", arguments: '{"text":"x"}' }]);
  });

  it("leaves a request whose names all fit untouched, and keeps wire names unique and within 64 characters", () => {
    expect(wireNamesFor({ model: "m", messages: [], tools: [PLAIN] })).toBeNull();
    const long = `srv.${"t".repeat(60)}`;
    const names = wireNamesFor({
      model: "m",
      messages: [],
      tools: [
        { name: "a.b", parameters: params },
        { name: "a__b", parameters: params },
        { name: long, parameters: params },
      ],
    })!;
    const wireOfAB = names.toWire.get("a.b")!;
    expect(wireOfAB).not.toBe("a__b");
    expect(wireOfAB).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const wireOfLong = names.toWire.get(long)!;
    expect(wireOfLong.length).toBeLessThanOrEqual(64);
    expect(names.fromWire.get(wireOfLong)).toBe(long);
  });
});
