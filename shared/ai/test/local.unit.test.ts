import { describe, expect, it } from "vitest";
import {
  AiError,
  createLocalProvider,
  estimatePromptTokens,
  estimateTokens,
  withContext,
  type CallMeta,
  type ChatRequest,
  type ChatStreamEvent,
  type ContextPassage,
} from "../src/index";
import { collect, collectUntilError, textOf } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const local = createLocalProvider();

const PASSAGES: ContextPassage[] = [
  {
    id: "billing",
    title: "Billing",
    text: "Invoices are issued on the first day of each month. Refunds are processed within 5 business days of approval.",
  },
  {
    id: "security",
    text: "Passwords can be reset from the account settings page. Two-factor authentication is optional but recommended.",
  },
  { id: "weather", text: "Lisbon is sunny most of the year. The ocean is cold in spring." },
];

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "local/echo-1",
  messages: [
    { role: "system", content: "You are helpful." },
    { role: "user", content: "Hello there" },
    { role: "assistant", content: "Hi!" },
    { role: "user", content },
  ],
  ...extra,
});

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
const norm = (a: number[]) => Math.sqrt(cosine(a, a));

/** Splits a context answer into its cited sentences: "sentence [n]." → { sentence, n }. */
function citations(answer: string): Array<{ sentence: string; n: number }> {
  const body = answer.replace(/^From the provided sources: /, "");
  return [...body.matchAll(/(.+?) \[(\d+)\]\.\s*/g)].map((match) => ({
    sentence: match[1] ?? "",
    n: Number(match[2]),
  }));
}

describe("local provider: chat", () => {
  it("answers the same conversation the same way, streamed or not", async () => {
    const request = ask("How long do refunds take?", { context: PASSAGES });
    const first = await local.chat(request, meta);
    const again = await local.chat(request, meta);
    const streamed = await collect(local.chatStream(request, meta));
    const streamedAgain = await collect(local.chatStream(request, meta));

    expect(again).toEqual(first);
    expect(streamedAgain).toEqual(streamed);
    expect(textOf(streamed)).toBe(first.text);
    expect(streamed.slice(-2)).toEqual([
      { type: "usage", usage: first.usage },
      { type: "done", finishReason: "stop" },
    ]);
  });

  it("streams word by word, each token after the first keeping its leading space", async () => {
    const events = await collect(local.chatStream(ask("Tell me about the ocean in Lisbon"), meta));
    const tokens = events.filter((event) => event.type === "token").map((event) => event.text);
    expect(tokens.length).toBeGreaterThan(5);
    expect(tokens.slice(1).every((token) => /^\s+\S+$/.test(token))).toBe(true);
    expect(tokens.join("")).toBe(textOf(events));
  });

  it("without context, echoes the last user message and says it is an offline model", async () => {
    const result = await local.chat(ask("What is the capital of France?"), meta);
    expect(result.text).toBe(
      'You said: "What is the capital of France?". (local/echo-1 is an offline test model; it does not reason.)',
    );
    expect(result.finishReason).toBe("stop");
    expect(result.model).toBe("local/echo-1");
  });

  it("with context, quotes the most relevant sentences and cites only valid passages", async () => {
    for (const question of ["How long do refunds take?", "How do I reset my password?", "Is the ocean cold?"]) {
      const { text } = await local.chat(ask(question, { context: PASSAGES }), meta);
      const cited = citations(text);
      expect(cited.length, text).toBeGreaterThan(0);
      for (const { sentence, n } of cited) {
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(PASSAGES.length);
        expect(PASSAGES[n - 1]?.text).toContain(sentence);
      }
    }
    const refunds = await local.chat(ask("How long do refunds take?", { context: PASSAGES }), meta);
    expect(citations(refunds.text)[0]).toEqual({
      sentence: "Refunds are processed within 5 business days of approval",
      n: 1,
    });
    const password = await local.chat(ask("How do I reset my password?", { context: PASSAGES }), meta);
    expect(citations(password.text)[0]?.n).toBe(2);
  });

  it("says so honestly when no passage shares a word with the question", async () => {
    const { text } = await local.chat(ask("Quantum chromodynamics?", { context: PASSAGES }), meta);
    expect(text).toMatch(/^None of the 3 provided sources shares a word with "Quantum chromodynamics\?"/);
    expect(text).not.toMatch(/\[\d+\]/);
  });

  it("keeps the answer within maxTokens and reports it was cut", async () => {
    const long = "word ".repeat(200);
    const events = await collect(local.chatStream(ask(long, { maxTokens: 12 }), meta));
    const usage = events.find((event) => event.type === "usage");
    expect(usage?.type === "usage" && usage.usage.completionTokens).toBeLessThanOrEqual(12);
    expect(estimateTokens(textOf(events))).toBeLessThanOrEqual(12);
    expect(events.at(-1)).toEqual({ type: "done", finishReason: "length" });
  });

  it("counts usage with the same estimator for prompt and completion", async () => {
    const request = ask("How long do refunds take?", { context: PASSAGES });
    const { text, usage } = await local.chat(request, meta);
    const prompt = estimatePromptTokens(withContext(request.messages, request.context));
    expect(usage).toEqual({
      promptTokens: prompt,
      completionTokens: estimateTokens(text),
      totalTokens: prompt + estimateTokens(text),
    });
  });

  it("refuses models that are not local/*, without retry", async () => {
    const failure = await local
      .chat(ask("hi", { model: "@cf/meta/llama-3.1-8b-instruct" }), meta)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ code: "ai_unavailable", retryable: false });
  });

  it("local/fail-always fails retryably before any token", async () => {
    const { items, error } = await collectUntilError<ChatStreamEvent>(
      local.chatStream(ask("hi", { model: "local/fail-always" }), meta),
    );
    expect(items).toEqual([]);
    expect(error).toMatchObject({ code: "ai_unavailable", retryable: true });
  });

  it("local/fail-after-first-token fails after exactly one token", async () => {
    const { items, error } = await collectUntilError<ChatStreamEvent>(
      local.chatStream(ask("hello world again", { model: "local/fail-after-first-token" }), meta),
    );
    expect(items).toEqual([{ type: "token", text: "You" }]);
    expect(error).toMatchObject({ code: "ai_unavailable", retryable: true });
  });

  it("local/slow-first-token waits until aborted", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 30);
    const { items, error } = await collectUntilError<ChatStreamEvent>(
      local.chatStream(ask("hi", { model: "local/slow-first-token", signal: controller.signal }), meta),
    );
    expect(items).toEqual([]);
    expect(error).toMatchObject({ code: "aborted" });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("paces tokens by tokenDelayMs and stops between tokens on abort", async () => {
    const paced = createLocalProvider({ tokenDelayMs: 10 });
    const controller = new AbortController();
    const seen: ChatStreamEvent[] = [];
    const failure = await (async () => {
      for await (const event of paced.chatStream(
        ask("one two three four five six seven", { signal: controller.signal }),
        meta,
      )) {
        seen.push(event);
        if (seen.length === 2) controller.abort();
      }
    })().catch((error: unknown) => error);
    expect(seen).toHaveLength(2);
    expect(failure).toMatchObject({ code: "aborted" });
  });
});

describe("local provider: embeddings", () => {
  const texts = [
    "How do I reset my password?",
    "Resetting your password from the account settings",
    "The weather in Lisbon is sunny and warm",
    "",
  ];

  it("returns unit-length vectors of the requested dimension, deterministically", async () => {
    const result = await local.embed({ model: "local/hash-embed-384", texts, dimensions: 64 }, meta);
    const again = await local.embed({ model: "local/hash-embed-384", texts, dimensions: 64 }, meta);
    expect(again).toEqual(result);
    expect(result.vectors).toHaveLength(texts.length);
    for (const vector of result.vectors) {
      expect(vector).toHaveLength(64);
      expect(norm(vector)).toBeCloseTo(1, 10);
    }
    expect(result.usage.promptTokens).toBe(texts.reduce((sum, text) => sum + estimateTokens(text), 0));
  });

  it("folds case and diacritics, so accented and plain spellings embed alike", async () => {
    const [accented, plain] = (
      await local.embed({ model: "local/hash-embed-384", texts: ["Crème Brûlée CAFÉ", "creme brulee cafe"] }, meta)
    ).vectors;
    expect(cosine(accented ?? [], plain ?? [])).toBeCloseTo(1, 10);
  });

  it("takes the dimension from a local/hash-embed-N model id, else 384", async () => {
    const [a] = (await local.embed({ model: "local/hash-embed-128", texts: ["x"] }, meta)).vectors;
    const [b] = (await local.embed({ model: "local/embed", texts: ["x"] }, meta)).vectors;
    expect(a).toHaveLength(128);
    expect(b).toHaveLength(384);
  });

  it("puts lexically similar texts closer than unrelated ones", async () => {
    const [question, answer, unrelated] = (await local.embed({ model: "local/hash-embed-384", texts }, meta)).vectors;
    const similar = cosine(question ?? [], answer ?? []);
    const different = cosine(question ?? [], unrelated ?? []);
    expect(similar).toBeGreaterThan(0.3);
    expect(Math.abs(different)).toBeLessThan(0.15);
    expect(similar).toBeGreaterThan(different + 0.25);
  });
});
