/**
 * ttfb.mjs — time to first token, measured sequentially (one request at a time, so the numbers
 * are latency, not queueing): a chat turn streamed through the whole mesh (gateway → chat RPC →
 * ChatSession DO → local model) against the same local model called in this process. The
 * difference is what the platform adds before the first token reaches a client.
 * Needs TypeScript imports (the AI layer), so `pnpm bench` runs under tsx.
 */
import { performance } from "node:perf_hooks";

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

/** Milliseconds until the first `event: token` byte of a streamed POST arrives. */
async function gatewayTtfb(url, headers, body) {
  const started = performance.now();
  const response = await fetch(url, { method: "POST", headers, body });
  if (response.status !== 200) throw new Error(`${url} → ${response.status}: ${await response.text()}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("stream ended without a token event");
    seen += value;
    if (seen.includes("event: token")) {
      const elapsed = performance.now() - started;
      await reader.cancel();
      return elapsed;
    }
  }
}

/** Milliseconds until the local provider's first token, called in-process. */
async function directTtfb(provider, message) {
  const started = performance.now();
  const iterator = provider
    .chatStream(
      { model: "local/echo-1", messages: [{ role: "user", content: message }] },
      { tenantId: "bench", requestId: "bench", gatewayId: "bench" },
    )
    [Symbol.asyncIterator]();
  for (;;) {
    const { done, value } = await iterator.next();
    if (done) throw new Error("local provider ended without a token");
    if (value.type === "token") {
      const elapsed = performance.now() - started;
      await iterator.return?.();
      return elapsed;
    }
  }
}

/**
 * Alternates blocks of direct and gateway samples (A/B/A/B) and returns both distributions.
 * @param {{ url: string, apiKey: string, samples: number, rounds: number }} options
 */
export async function measureTtfb({ url, apiKey, samples, rounds }) {
  const { createLocalProvider } = await import("../../shared/ai/src/index.ts");
  const provider = createLocalProvider({ tokenDelayMs: 0 });
  const message = "What should I pack for a weekend in the mountains?";
  const headers = {
    authorization: `Bearer ${apiKey}`,
    "content-type": "application/json",
    "cf-connecting-ip": "127.0.0.1",
  };
  const body = JSON.stringify({ message });
  const direct = [];
  const gateway = [];
  for (let i = 0; i < 20; i++) {
    await directTtfb(provider, message);
    await gatewayTtfb(`${url}/v1/chat`, headers, body);
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < samples; i++) direct.push(await directTtfb(provider, message));
    for (let i = 0; i < samples; i++) gateway.push(await gatewayTtfb(`${url}/v1/chat`, headers, body));
  }
  return { direct: stats(direct), gateway: stats(gateway) };
}
