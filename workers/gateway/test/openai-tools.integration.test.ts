/**
 * POST /v1/chat/completions with tools and the rest of OpenAI's request fields: client-side tool
 * calls returned in OpenAI's exact shapes (whole and streamed), a full round trip with the tool
 * result sent back, server-side tools run by the platform, and every field we do not honour
 * refused with a 400 that names it.
 */
import { describe, expect, it } from "vitest";
import { bearer, call, createKey, expectError, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const json = (key: string) => bearer(key, { "content-type": "application/json" });

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

async function completion(key: string, body: Record<string, unknown>): Promise<Response> {
  return call("/v1/chat/completions", { method: "POST", headers: json(key), body: JSON.stringify(body) });
}

interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface Chunk {
  object: string;
  choices: Array<{ delta: { content?: string; tool_calls?: ToolCallDelta[] }; finish_reason: string | null }>;
}

interface Completion {
  choices: Array<{
    message: {
      role: string;
      content: string | null;
      tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
    };
    finish_reason: string;
  }>;
  usage: { total_tokens: number };
}

describe("OpenAI-compatible tool calling", () => {
  it("returns a client-side tool call, then answers from the tool result sent back", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const ask = [{ role: "user", content: 'get_weather {"city":"Paris"}' }];
    const first = await completion(key, { messages: ask, tools: [weather] });
    expect(first.status, await first.clone().text()).toBe(200);
    const body = await first.json<Completion>();
    const choice = body.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const toolCall = choice.message.tool_calls![0]!;
    expect(toolCall).toMatchObject({ type: "function", function: { name: "get_weather" } });
    expect(JSON.parse(toolCall.function.arguments)).toEqual({ city: "Paris" });

    const second = await completion(key, {
      tools: [weather],
      messages: [
        ...ask,
        { role: "assistant", content: null, tool_calls: [toolCall] },
        { role: "tool", tool_call_id: toolCall.id, content: '{"tempC":19}' },
      ],
    });
    expect(second.status, await second.clone().text()).toBe(200);
    const answer = (await second.json<Completion>()).choices[0]!;
    expect(answer.finish_reason).toBe("stop");
    expect(answer.message.content).toContain("19");
  });

  it("streams tool calls as OpenAI's delta.tool_calls chunks and finishes with tool_calls", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await completion(key, {
      messages: [{ role: "user", content: 'get_weather {"city":"Rome"}' }],
      tools: [weather],
      tool_choice: "required",
      stream: true,
    });
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events.at(-1)!.data).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
    const deltas = chunks.flatMap((c) => c.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather", arguments: "" } });
    expect(typeof deltas[0]!.id).toBe("string");
    const args = deltas.map((d) => d.function?.arguments ?? "").join("");
    expect(JSON.parse(args)).toEqual({ city: "Rome" });
    const finish = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean);
    expect(finish).toEqual(["tool_calls"]);
    for (const chunk of chunks) expect(chunk.object).toBe("chat.completion.chunk");
  });

  it("honours tool_choice none and a named tool_choice", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const none = await (
      await completion(key, {
        messages: [{ role: "user", content: 'get_weather {"city":"Paris"}' }],
        tools: [weather],
        tool_choice: "none",
      })
    ).json<Completion>();
    expect(none.choices[0]!.finish_reason).toBe("stop");
    expect(none.choices[0]!.message.tool_calls).toBeUndefined();
    const named = await (
      await completion(key, {
        messages: [{ role: "user", content: "no tool named here" }],
        tools: [weather],
        tool_choice: { type: "function", function: { name: "get_weather" } },
      })
    ).json<Completion>();
    expect(named.choices[0]!.message.tool_calls![0]!.function.name).toBe("get_weather");
  });

  it("runs the tenant's tools server-side with server_tools and returns only the answer", async () => {
    const tenant = registerTenant({ features: { tools: true } });
    const { key } = await createKey(tenant.id, ["chat", "tools"]);
    const response = await completion(key, {
      messages: [{ role: "user", content: 'current_time {"timezone":"UTC"}' }],
      server_tools: ["current_time"],
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const choice = (await response.json<Completion>()).choices[0]!;
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.tool_calls).toBeUndefined();
    expect(choice.message.content).toContain("current_time");

    const { key: chatOnly } = await createKey(tenant.id, ["chat"]);
    await expectError(
      await completion(chatOnly, { messages: [{ role: "user", content: "hi" }], server_tools: true }),
      403,
      "forbidden",
    );
  });

  it("accepts content as text parts and null, developer messages, and neutral values of refused fields", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await completion(key, {
      messages: [
        { role: "developer", content: [{ type: "text", text: "Be brief." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "Hello " },
            { type: "text", text: "there" },
          ],
        },
      ],
      n: 1,
      logprobs: false,
      store: false,
      temperature: 0.2,
      top_p: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
      seed: 7,
      user: "end-user-1",
      parallel_tool_calls: true,
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect((await response.json<Completion>()).choices[0]!.message.content).toContain("Hello there");
  });

  it("honours stop and response_format json_object", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const full = await (
      await completion(key, { messages: [{ role: "user", content: "alpha beta gamma" }] })
    ).json<Completion>();
    const text = full.choices[0]!.message.content!;
    const cut = await (
      await completion(key, { messages: [{ role: "user", content: "alpha beta gamma" }], stop: ["gamma"] })
    ).json<Completion>();
    expect(cut.choices[0]!.message.content).toBe(text.slice(0, text.indexOf("gamma")));
    const asJson = await (
      await completion(key, {
        messages: [{ role: "user", content: "alpha" }],
        response_format: { type: "json_object" },
      })
    ).json<Completion>();
    expect(() => JSON.parse(asJson.choices[0]!.message.content!)).not.toThrow();
  });

  it("refuses every field it does not honour with a 400 naming it", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const messages = [{ role: "user", content: "hi" }];
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ n: 2 }, "n"],
      [{ logit_bias: { "50256": -100 } }, "logit_bias"],
      [{ logprobs: true }, "logprobs"],
      [{ top_logprobs: 2 }, "top_logprobs"],
      [{ functions: [] }, "functions"],
      [{ audio: { voice: "alloy" } }, "audio"],
      [{ modalities: ["text", "audio"] }, "modalities"],
      [{ store: true }, "store"],
      [{ tools: [{ type: "web_search" }] }, "tools"],
      [{ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, "messages"],
      [{ messages: [{ role: "user", content: "hi", name: "bob" }] }, "name"],
      [{ tool_choice: "required" }, "tool_choice"],
      [{ max_tokens: 10, max_completion_tokens: 20 }, "max_completion_tokens"],
    ];
    for (const [extra, field] of cases) {
      const error = await expectError(await completion(key, { messages, ...extra }), 400, "validation_failed");
      expect(error.message, JSON.stringify(extra)).toContain(field);
    }
  });
});
