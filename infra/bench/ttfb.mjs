/**
 * ttfb.mjs — time to first token, measured sequentially (one request at a time, so the numbers
 * are latency, not queueing), for two sides A/B in alternating blocks: a streamed request through
 * the whole mesh against the same model answer fetched once through the one-fetch passthrough
 * (mock-upstream.mjs behind mesh.mjs's startUpstreamPassthrough). The difference is what the
 * platform adds before the first token reaches a client.
 *
 * A "token" is the first SSE event a side's `isToken` accepts: `openAiContent` (a
 * `chat.completion.chunk` whose `choices[0].delta.content` is a non-empty string; an empty role
 * chunk does not count) or `platformToken` (`event: token` of `POST /v1/chat`). The clock starts
 * before the request is sent and stops when the event carrying it has been read.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

/** An OpenAI-style chunk with content: `data: {…"delta":{"content":"…"}…}`. */
export function openAiContent(event) {
  for (const line of event.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    try {
      const content = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
      if (typeof content === "string" && content.length > 0) return true;
    } catch {
      // not JSON: not a chunk
    }
  }
  return false;
}

/** The platform's own SSE (`POST /v1/chat`): `event: token`. */
export const platformToken = (event) => /^event: token$/m.test(event);

/** One keep-alive connection per side: sequential samples reuse it, as a real client would. */
const agents = new Map();
const agentFor = (url) => {
  const key = new URL(url).host;
  if (!agents.has(key)) agents.set(key, new Agent({ keepAlive: true, maxSockets: 1 }));
  return agents.get(key);
};

/**
 * Milliseconds until the first event `isToken` accepts arrives. node:http, not fetch: undici's
 * fetch added 0.6–1.1 ms per request here (measured against the mock), more than the difference
 * being measured. The rest of the stream is read to its end (so the connection is reused and a
 * chat turn completes) before the next sample starts.
 */
function firstToken({ url, headers, body }, isToken) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      {
        method: "POST",
        agent: agentFor(url),
        headers: { ...headers, "content-length": Buffer.byteLength(body ?? "") },
      },
      (res) => {
        res.setEncoding("utf8");
        let pending = "";
        let elapsed = null;
        let text = "";
        res.on("data", (chunk) => {
          if (res.statusCode !== 200) {
            text += chunk;
            return;
          }
          if (elapsed !== null) return;
          pending += chunk.replaceAll("\r\n", "\n");
          const events = pending.split("\n\n");
          pending = events.pop();
          if (events.some(isToken)) elapsed = performance.now() - started;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`${url} → ${res.statusCode}: ${text.slice(0, 300)}`));
          else if (elapsed === null) reject(new Error(`${url}: the stream ended without a token`));
          else resolve(elapsed);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Warms both sides (20 requests each), then alternates blocks of `samples` sequential requests,
 * baseline first, for `rounds` rounds. Each side: `{ url, headers, body, isToken }`.
 * @returns {Promise<{ baseline: ReturnType<typeof stats>, subject: ReturnType<typeof stats> }>}
 */
export async function measureTtfb({ baseline, subject, samples, rounds, warmup = 20 }) {
  const out = { baseline: [], subject: [] };
  for (let i = 0; i < warmup; i++) {
    await firstToken(baseline, baseline.isToken);
    await firstToken(subject, subject.isToken);
  }
  for (let r = 0; r < rounds; r++) {
    for (const side of ["baseline", "subject"]) {
      const spec = side === "baseline" ? baseline : subject;
      for (let i = 0; i < samples; i++) out[side].push(await firstToken(spec, spec.isToken));
    }
  }
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
  return { baseline: stats(out.baseline), subject: stats(out.subject) };
}
