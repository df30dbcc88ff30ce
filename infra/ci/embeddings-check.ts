/**
 * `POST /v1/embeddings` against a running mesh with real clients: the official `openai` client's
 * `embeddings.create` (which asks for base64 by default and decodes it itself; float asked for
 * explicitly too, and both must agree), `dimensions`, and the Vercel AI SDK's `embed` and
 * `embedMany` through `@ai-sdk/openai-compatible`. The model is the tenant's embeddings model
 * (acme: local/hash-embed-384).
 *
 * Used by the CI smoke test; by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/embeddings-check.ts [http://127.0.0.1:8787] [api key]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { cosineSimilarity, embed, embedMany } from "ai";
import OpenAI from "openai";

const MODEL = "local/hash-embed-384";

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export async function embeddingsCheck(baseUrl: string, apiKey: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey });
  const texts = ["Durable Objects are single-threaded.", "Ships follow lighthouses at night."];
  const packed = await client.embeddings.create({ model: MODEL, input: texts });
  const floats = await client.embeddings.create({ model: MODEL, input: texts, encoding_format: "float" });
  check(packed.data.length === 2 && floats.data.length === 2, "openai: expected two embeddings");
  for (const [index, row] of packed.data.entries()) {
    check(row.embedding.length === 384, `openai: embedding ${index} has ${row.embedding.length} dimensions, not 384`);
    const expected = floats.data[index]!.embedding;
    check(
      row.embedding.every((value, i) => Math.abs(value - expected[i]!) < 1e-6),
      `openai: the base64 embedding ${index} decodes to other values than the float one`,
    );
  }
  check(packed.usage.prompt_tokens > 0, "openai: no usage.prompt_tokens");
  const narrow = await client.embeddings.create({ model: MODEL, input: "narrow", dimensions: 32 });
  check(narrow.data[0]!.embedding.length === 32, "openai: dimensions: 32 was not honoured");
  console.log(`openai: embeddings.create → 2 × 384 (base64 = float), dimensions: 32 honoured`);

  const provider = createOpenAICompatible({ name: "crispy", baseURL: `${baseUrl}/v1`, apiKey });
  const model = provider.embeddingModel(MODEL);
  const one = await embed({ model, value: texts[0]! });
  check(one.embedding.length === 384, `vercel: embed returned ${one.embedding.length} dimensions`);
  const many = await embedMany({ model, values: [texts[0]!, "Durable Objects run one request at a time.", texts[1]!] });
  check(many.embeddings.length === 3, "vercel: embedMany did not return three embeddings");
  const near = cosineSimilarity(many.embeddings[0]!, many.embeddings[1]!);
  const far = cosineSimilarity(many.embeddings[0]!, many.embeddings[2]!);
  check(
    near > far,
    `vercel: related texts (${near.toFixed(3)}) are not nearer than unrelated ones (${far.toFixed(3)})`,
  );
  check(
    one.embedding.every((value, i) => Math.abs(value - floats.data[0]!.embedding[i]!) < 1e-6),
    "vercel: embed and openai disagree on the same text",
  );
  console.log(`vercel: embed and embedMany → 384 dimensions, related ${near.toFixed(3)} > unrelated ${far.toFixed(3)}`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const key =
    process.argv[3] ??
    (JSON.parse(readFileSync(join(import.meta.dirname, "../../.dev/keys.json"), "utf8")) as Record<string, string>)
      .acme!;
  embeddingsCheck(url, key).catch((error: Error) => {
    console.error(`embeddings check FAILED: ${error.message}`);
    process.exit(1);
  });
}
