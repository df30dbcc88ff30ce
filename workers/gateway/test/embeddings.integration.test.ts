/**
 * `POST /v1/embeddings` through the gateway and the rag worker's AI layer (the local hash
 * embedder): OpenAI's response shape, base64 that decodes to the float vectors, `dimensions`,
 * every refusal a 4xx naming its field, the `search` scope, and the token budget (reserved first,
 * settled with the model's count). Each test that spends has a tenant of its own.
 */
import type { QuotaUsage } from "@crispy/contracts";
import { EMBEDDING_LIMITS } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { bearer, call, createKey, eventually, expectError, registerTenant } from "./helpers";

interface EmbeddingsReply {
  object: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

const MODEL = "local/hash-embed-64";

function embed(key: string, body: unknown): Promise<Response> {
  return call("/v1/embeddings", {
    method: "POST",
    headers: bearer(key, { "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
}

async function embedOk(key: string, body: unknown): Promise<EmbeddingsReply> {
  const response = await embed(key, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<EmbeddingsReply>();
}

function decodeBase64(text: string): number[] {
  const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

describe("POST /v1/embeddings", () => {
  it("embeds one string or many, in input order, with the tenant's model and width", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["search"]);
    const texts = ["Durable Objects are single-threaded.", "Lighthouses guide ships at night.", "Durable Objects."];
    const many = await embedOk(key, { model: MODEL, input: texts });
    expect(many.object).toBe("list");
    expect(many.model).toBe(MODEL);
    expect(many.data.map((row) => [row.object, row.index])).toEqual([
      ["embedding", 0],
      ["embedding", 1],
      ["embedding", 2],
    ]);
    const vectors = many.data.map((row) => row.embedding as number[]);
    expect(vectors.every((vector) => vector.length === 64)).toBe(true);
    // L2-normalised, and the related texts are nearer each other than the unrelated one.
    expect(cosine(vectors[0]!, vectors[0]!)).toBeCloseTo(1, 5);
    expect(cosine(vectors[0]!, vectors[2]!)).toBeGreaterThan(cosine(vectors[0]!, vectors[1]!));
    expect(many.usage.prompt_tokens).toBeGreaterThan(0);
    expect(many.usage.total_tokens).toBe(many.usage.prompt_tokens);

    const one = await embedOk(key, { model: MODEL, input: texts[1] });
    expect(one.data).toHaveLength(1);
    expect(one.data[0]!.embedding).toEqual(vectors[1]);
  });

  it("keeps input order across the model batches of a large request", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["search"]);
    const input = Array.from({ length: 70 }, (_, i) => `passage number ${i} about topic ${i * 7}`);
    const all = await embedOk(key, { model: MODEL, input });
    expect(all.data.map((row) => row.index)).toEqual(input.map((_, i) => i));
    for (const i of [0, 31, 32, 33, 69]) {
      const alone = await embedOk(key, { model: MODEL, input: input[i] });
      expect(all.data[i]!.embedding).toEqual(alone.data[0]!.embedding);
    }
  });

  it("encodes base64 as little-endian float32 that decodes to the float vector", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["search"]);
    const input = ["base64 and floats agree", "a second input"];
    const floats = await embedOk(key, { model: MODEL, input, encoding_format: "float" });
    const packed = await embedOk(key, { model: MODEL, input, encoding_format: "base64" });
    for (const [index, row] of packed.data.entries()) {
      expect(typeof row.embedding).toBe("string");
      const decoded = decodeBase64(row.embedding as string);
      const expected = floats.data[index]!.embedding as number[];
      expect(decoded).toHaveLength(expected.length);
      for (const [i, value] of decoded.entries()) expect(value).toBeCloseTo(expected[i]!, 6);
    }
  });

  it("honours dimensions where the model can produce them", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["search"]);
    const reply = await embedOk(key, { model: MODEL, input: "narrow vectors", dimensions: 16 });
    expect((reply.data[0]!.embedding as number[]).length).toBe(16);
  });

  it.each([
    ["token-id arrays", { model: MODEL, input: [1, 2, 3] }, "input", /token-id arrays are not supported/],
    ["nested token-id arrays", { model: MODEL, input: [[1, 2]] }, "input", /token-id arrays are not supported/],
    ["an empty string", { model: MODEL, input: "" }, "input", /must not be empty/],
    ["an empty list", { model: MODEL, input: [] }, "input", /at least one input/],
    [
      "too many inputs",
      { model: MODEL, input: Array.from({ length: EMBEDDING_LIMITS.maxInputs + 1 }, () => "x") },
      "input",
      /at most 256 inputs/,
    ],
    [
      "an input that is too long",
      { model: MODEL, input: "x".repeat(EMBEDDING_LIMITS.maxInputChars + 1) },
      "input",
      /at most 32000 characters/,
    ],
    [
      "inputs that are too long together",
      { model: MODEL, input: Array.from({ length: 17 }, () => "x".repeat(EMBEDDING_LIMITS.maxInputChars)) },
      "input",
      /all inputs together must be at most 512000 characters/,
    ],
    ["no model", { input: "hello" }, "model", /./],
    ["an unknown encoding", { model: MODEL, input: "hello", encoding_format: "int8" }, "encoding_format", /float/],
    ["zero dimensions", { model: MODEL, input: "hello", dimensions: 0 }, "dimensions", /./],
    ["an unknown field", { model: MODEL, input: "hello", truncate: "END" }, "truncate", /not supported/],
  ])("refuses %s with a 400 naming the field", async (_label, body, field, message) => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["search"]);
    const error = await expectError(await embed(key, body), 400, "validation_failed");
    expect(JSON.stringify(error)).toContain(field);
    expect(error.message).toMatch(message);
  });

  it("refuses a model that is not the tenant's embeddings model, naming the one to use", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["search"]);
    const error = await expectError(
      await embed(key, { model: "text-embedding-3-small", input: "hi" }),
      403,
      "forbidden",
    );
    expect(error.message).toContain(MODEL);
  });

  it("needs the search scope and the search feature", async () => {
    const tenant = registerTenant();
    const chatOnly = await createKey(tenant.id, ["chat"]);
    await expectError(await embed(chatOnly.key, { model: MODEL, input: "hi" }), 403, "forbidden");
    const noSearch = registerTenant({ features: { search: false } });
    const { key } = await createKey(noSearch.id, ["search"]);
    await expectError(await embed(key, { model: MODEL, input: "hi" }), 403, "forbidden");
  });

  it("spends the tenant's token budget: settled with the model's count, refused when over", async () => {
    const tenant = registerTenant({ budgets: { dailyTokens: 200, monthlyTokens: 1_000_000 } });
    const { key } = await createKey(tenant.id, ["search"]);
    const reply = await embedOk(key, { model: MODEL, input: ["count these tokens please", "and these"] });
    let usage: QuotaUsage | undefined;
    await eventually(async () => {
      usage = await (await call("/v1/usage", { headers: bearer(key) })).json<QuotaUsage>();
      expect(usage.openReservations).toBe(0);
      expect(usage.daily.used).toBe(reply.usage.prompt_tokens);
    });
    // ~1 token per 4 characters: 2,000 characters cannot fit in what is left of 200.
    const over = await expectError(
      await embed(key, { model: MODEL, input: "word ".repeat(400) }),
      429,
      "budget_exceeded",
    );
    expect(over.message.length).toBeGreaterThan(0);
    const other = registerTenant();
    const otherKey = await createKey(other.id, ["search"]);
    await embedOk(otherKey.key, { model: MODEL, input: "word ".repeat(400) });
  });
});
