/**
 * The official `openai` npm client against a running mesh: `models.list`,
 * `chat.completions.create` with `stream: false` and `stream: true` (with usage), and the streamed
 * text must equal the non-streamed text for the same deterministic prompt (local provider).
 * Used by the CI smoke test; also runnable by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/openai-check.ts [http://127.0.0.1:8787] [api key]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";

export async function openAiCheck(baseUrl: string, apiKey: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey, maxRetries: 0 });

  const models = await client.models.list();
  const ids = models.data.map((model) => model.id);
  if (ids.length === 0) throw new Error("models.list returned no models");
  console.log(`openai: models.list → ${ids.join(", ")}`);

  const messages = [
    { role: "system" as const, content: "You are a terse assistant." },
    { role: "user" as const, content: "Name three colours of the rainbow." },
  ];
  const completion = await client.chat.completions.create({ model: ids[0]!, messages, stream: false });
  const text = completion.choices[0]?.message.content ?? "";
  if (!text) throw new Error("non-streamed completion is empty");
  if (!completion.usage || completion.usage.total_tokens <= 0) throw new Error("non-streamed completion has no usage");
  console.log(
    `openai: chat.completions.create(stream: false) → ${text.length} chars, ${completion.usage.total_tokens} tokens`,
  );

  const stream = await client.chat.completions.create({
    model: ids[0]!,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let streamed = "";
  let chunks = 0;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
    chunks += 1;
  }
  if (streamed !== text)
    throw new Error(`streamed text differs from non-streamed text:\n  stream: ${streamed}\n  plain:  ${text}`);
  if (!usage || usage.completion_tokens !== completion.usage.completion_tokens)
    throw new Error("streamed usage missing or different");
  console.log(`openai: chat.completions.create(stream: true) → ${chunks} chunks, same text, usage included`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const key =
    process.argv[3] ??
    (JSON.parse(readFileSync(join(import.meta.dirname, "../../.dev/keys.json"), "utf8")) as Record<string, string>)
      .acme!;
  openAiCheck(url, key).catch((error: Error) => {
    console.error(`openai check FAILED: ${error.message}`);
    process.exit(1);
  });
}
