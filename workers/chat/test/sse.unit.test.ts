import { SseWriter, sseFrame } from "@crispy/worker-kit";
import { describe, expect, it } from "vitest";
import { SseStream } from "../src/sse";

const decoder = new TextDecoder();

describe("SseWriter", () => {
  it("sends a frame at once, joins the frames written while the reader is busy, and ends after them", async () => {
    const writer = new SseWriter();
    const reader = writer.body.getReader();
    writer.write("data: 1\n\n");
    writer.write("data: 2\n\n");
    writer.write("data: 3\n\n");
    writer.end("data: end\n\n");
    expect(writer.open).toBe(false);
    const reads: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads.push(decoder.decode(value));
    }
    expect(reads).toEqual(["data: 1\n\n", "data: 2\n\ndata: 3\n\ndata: end\n\n"]);
  });

  it("reports a reader that went away once, and not after the end", async () => {
    let cancels = 0;
    const cancelled = new SseWriter({ onCancel: () => cancels++ });
    await cancelled.body.cancel();
    cancelled.write("data: 1\n\n");
    cancelled.write("data: 2\n\n");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(cancels).toBe(1);
    expect(cancelled.open).toBe(false);

    let late = 0;
    const ended = new SseWriter({ onCancel: () => late++ });
    ended.end("data: bye\n\n");
    await ended.body.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(late).toBe(0);
  });
});

describe("the openai dialect", () => {
  it("writes each token as exactly the chunk object a client parses", async () => {
    const stream = new SseStream("openai", {
      heartbeatMs: 0,
      onCancel: () => undefined,
      openai: { id: "chatcmpl-1", created: 1_700_000_000, includeUsage: false },
    });
    const texts = ['He said "hi"', "\n", "naïve 🙂 \\ </script>", "\u2028"];
    stream.model("local/echo-1");
    for (const text of texts) stream.token(text);
    stream.done({
      turnId: "t",
      sessionId: null,
      model: "local/echo-1",
      usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
      finishReason: "stop",
    });
    const body = await new Response(stream.body).text();
    const frames = body.split(/(?<=\n\n)/);
    const chunk = (delta: object, finish: string | null) =>
      sseFrame({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: "local/echo-1",
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    expect(frames).toEqual([
      chunk({ role: "assistant", content: "" }, null),
      ...texts.map((content) => chunk({ content }, null)),
      chunk({}, "stop"),
      "data: [DONE]\n\n",
    ]);
  });
});

describe("tool calls in the dialects", () => {
  const toolCall = { id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' };
  const result = {
    call: toolCall,
    status: "ok" as const,
    output: '{"tempC":17}',
    truncated: false,
    durationMs: 12,
    executionId: "exe_1",
  };
  const summary = {
    turnId: "t",
    sessionId: null,
    model: "local/echo-1",
    usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
    finishReason: "tool_calls" as const,
  };

  it("openai: a client-side call is OpenAI's two tool_calls chunks; a server-side one is not shown", async () => {
    const stream = new SseStream("openai", {
      heartbeatMs: 0,
      onCancel: () => undefined,
      openai: { id: "chatcmpl-1", created: 1_700_000_000, includeUsage: false },
    });
    stream.model("local/echo-1");
    stream.toolCall({ ...toolCall, id: "call_0", name: "current_time" }, true);
    stream.toolResult(result);
    stream.toolCall(toolCall, false);
    stream.done(summary);
    const frames = (await new Response(stream.body).text()).split(/(?<=\n\n)/);
    const chunk = (delta: object, finish: string | null) =>
      sseFrame({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: "local/echo-1",
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    expect(frames).toEqual([
      chunk({ role: "assistant", content: "" }, null),
      chunk(
        {
          tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }],
        },
        null,
      ),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, null),
      chunk({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]);
  });

  it("events: tool_call and tool_result events with ids in sequence", async () => {
    const stream = new SseStream("events", { heartbeatMs: 0, onCancel: () => undefined });
    stream.toolCall(toolCall, true);
    stream.toolResult(result);
    stream.token("It is 17 degrees.");
    stream.done({ ...summary, sessionId: "s", finishReason: "stop" });
    const frames = (await new Response(stream.body).text()).split(/(?<=\n\n)/);
    expect(frames.slice(0, 2)).toEqual([
      sseFrame({ id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }, "tool_call", 1),
      sseFrame(
        {
          id: "call_1",
          name: "get_weather",
          status: "ok",
          output: '{"tempC":17}',
          truncated: false,
          durationMs: 12,
          executionId: "exe_1",
        },
        "tool_result",
        2,
      ),
    ]);
    expect(frames[2]).toContain("event: token");
  });
});
