/**
 * Tool calling against a running mesh, as real users do it:
 *
 * 1. The platform's own tools: a tenant-defined HTTP tool is registered through `POST /v1/tools`
 *    (it calls a small HTTP server this script starts on 127.0.0.1 — the local-dev loopback
 *    exception), the local model calls it in `POST /v1/chat` (`tool_call` / `tool_result`
 *    events), and the call is found in `GET /v1/tools/executions`.
 * 2. Client-side tool round trips through `/v1/chat/completions` with the official `openai`
 *    client (non-stream and stream), the Vercel AI SDK (`@ai-sdk/openai-compatible`, generateText
 *    and streamText, the SDK running the tool) and LangChain (`@langchain/openai`, bindTools).
 *
 * Used by the CI smoke test; by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/tools-check.ts [http://127.0.0.1:8787] [api key]
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { type AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { z } from "zod";

const MODEL = "local/echo-1";
const PROMPT = 'What is the weather? get_weather {"city":"Paris"}';
const weatherSpec = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

function weatherOf(city: string): string {
  return JSON.stringify({ city, tempC: 17 });
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A tiny HTTP tool on 127.0.0.1; resolves to its URL and a close function. */
async function weatherServer(): Promise<{ url: string; close: () => void }> {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      const city = (JSON.parse(body || "{}") as { city?: string }).city ?? "?";
      response.setHeader("content-type", "application/json");
      response.end(weatherOf(city));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("weather server has no port");
  return { url: `http://127.0.0.1:${address.port}/weather`, close: () => server.close() };
}

async function platformTools(baseUrl: string, apiKey: string): Promise<void> {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const server = await weatherServer();
  try {
    const name = `weather_${Date.now()}`;
    const created = await fetch(`${baseUrl}/v1/tools`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        name,
        description: "Current weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        url: server.url,
        auth: { type: "bearer", secret: "demo-secret" },
      }),
    });
    check(created.status === 201, `POST /v1/tools → ${created.status} ${await created.text()}`);
    console.log(`tools: POST /v1/tools → 201 (${name})`);

    const chat = await fetch(`${baseUrl}/v1/chat`, {
      method: "POST",
      headers,
      body: JSON.stringify({ message: `Weather please: ${name} {"city":"Lisbon"}` }),
    });
    check(chat.status === 200, `POST /v1/chat → ${chat.status}`);
    const text = await chat.text();
    check(text.includes("event: tool_call"), "no tool_call event in the chat stream");
    check(text.includes("event: tool_result") && text.includes("Lisbon"), "no tool_result with the tool's output");
    check(text.includes("event: done"), `the chat turn did not finish:\n${text.slice(-400)}`);
    console.log("tools: POST /v1/chat → tool_call, tool_result, done");

    const audit = (await (await fetch(`${baseUrl}/v1/tools/executions?tool=${name}`, { headers })).json()) as {
      items: Array<{ tool: string; status: string; caller: string }>;
    };
    check(audit.items[0]?.status === "ok" && audit.items[0].caller === "chat", "the execution is not in the audit");
    console.log("tools: GET /v1/tools/executions → the chat's call, status ok");
    await fetch(`${baseUrl}/v1/tools/${name}`, { method: "DELETE", headers });
  } finally {
    server.close();
  }
}

async function openAiRoundTrip(baseUrl: string, apiKey: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey, maxRetries: 0 });
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: PROMPT }];
  const first = await client.chat.completions.create({ model: MODEL, messages, tools: [weatherSpec] });
  const choice = first.choices[0]!;
  check(choice.finish_reason === "tool_calls", `openai: finish_reason ${choice.finish_reason}`);
  const call = choice.message.tool_calls?.[0];
  check(call?.type === "function" && call.function.name === "get_weather", "openai: no get_weather call");
  const city = (JSON.parse(call.function.arguments) as { city: string }).city;
  const followUp: OpenAI.ChatCompletionMessageParam[] = [
    ...messages,
    choice.message,
    { role: "tool", tool_call_id: call.id, content: weatherOf(city) },
  ];
  const second = await client.chat.completions.create({ model: MODEL, messages: followUp, tools: [weatherSpec] });
  check(second.choices[0]!.message.content?.includes("17"), "openai: the answer does not use the tool result");
  console.log("openai: tool round trip (stream: false) → tool_calls, then an answer from the result");

  const stream = await client.chat.completions.create({ model: MODEL, messages, tools: [weatherSpec], stream: true });
  const calls: Record<number, { id: string; name: string; arguments: string }> = {};
  let finish: string | null = null;
  for await (const chunk of stream) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      calls[delta.index] ??= { id: "", name: "", arguments: "" };
      const entry = calls[delta.index]!;
      entry.id ||= delta.id ?? "";
      entry.name ||= delta.function?.name ?? "";
      entry.arguments += delta.function?.arguments ?? "";
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  const streamed = calls[0];
  check(finish === "tool_calls" && streamed?.name === "get_weather", "openai: no streamed get_weather call");
  const answer = await client.chat.completions.create({
    model: MODEL,
    stream: true,
    tools: [weatherSpec],
    messages: [
      ...messages,
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: streamed.id, type: "function", function: { name: streamed.name, arguments: streamed.arguments } },
        ],
      },
      { role: "tool", tool_call_id: streamed.id, content: weatherOf("Paris") },
    ],
  });
  let text = "";
  for await (const chunk of answer) text += chunk.choices[0]?.delta.content ?? "";
  check(text.includes("17"), "openai: the streamed answer does not use the tool result");
  console.log("openai: tool round trip (stream: true) → delta.tool_calls, then a streamed answer");
}

async function vercelRoundTrip(baseUrl: string, apiKey: string): Promise<void> {
  const provider = createOpenAICompatible({ name: "crispy", baseURL: `${baseUrl}/v1`, apiKey, includeUsage: true });
  const runs: { count: number } = { count: 0 };
  const ranTimes = (): number => runs.count;
  const tools = {
    get_weather: tool({
      description: "Current weather for a city",
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        runs.count += 1;
        return JSON.parse(weatherOf(city)) as unknown;
      },
    }),
  };
  const result = await generateText({ model: provider(MODEL), tools, stopWhen: stepCountIs(3), prompt: PROMPT });
  check(runs.count === 1 && result.steps.length === 2, `vercel: ${runs.count} tool runs, ${result.steps.length} steps`);
  check(result.text.includes("17"), `vercel: the answer does not use the tool result: ${result.text}`);
  console.log("vercel ai sdk: generateText → tool run by the SDK, then an answer from the result");

  const streamed = streamText({ model: provider(MODEL), tools, stopWhen: stepCountIs(3), prompt: PROMPT });
  let text = "";
  for await (const piece of streamed.textStream) text += piece;
  check(ranTimes() === 2 && text.includes("17"), `vercel: streamText ran the tool ${runs.count - 1} times: ${text}`);
  console.log("vercel ai sdk: streamText → tool run by the SDK, then a streamed answer");
}

async function langChainRoundTrip(baseUrl: string, apiKey: string): Promise<void> {
  const model = new ChatOpenAI({ model: MODEL, apiKey, configuration: { baseURL: `${baseUrl}/v1` }, maxRetries: 0 });
  const withTools = model.bindTools([weatherSpec]);
  const question = new HumanMessage(PROMPT);
  const first = (await withTools.invoke([question])) as AIMessage;
  const call = first.tool_calls?.[0];
  check(call?.name === "get_weather" && call.id, "langchain: no get_weather tool call");
  const answer = await withTools.invoke([
    question,
    first,
    new ToolMessage({ tool_call_id: call.id, content: weatherOf(String(call.args.city)) }),
  ]);
  check(String(answer.content).includes("17"), `langchain: the answer does not use the tool result: ${answer.content}`);
  console.log("langchain: bindTools → tool_calls, then an answer from the ToolMessage");
}

export async function toolsCheck(baseUrl: string, apiKey: string): Promise<void> {
  await platformTools(baseUrl, apiKey);
  await openAiRoundTrip(baseUrl, apiKey);
  await vercelRoundTrip(baseUrl, apiKey);
  await langChainRoundTrip(baseUrl, apiKey);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const key =
    process.argv[3] ??
    (JSON.parse(readFileSync(join(import.meta.dirname, "../../.dev/keys.json"), "utf8")) as Record<string, string>)
      .acme!;
  toolsCheck(url, key).catch((error: Error) => {
    console.error(`tools check FAILED: ${error.message}`);
    process.exit(1);
  });
}
