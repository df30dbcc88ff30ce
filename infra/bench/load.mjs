/**
 * load.mjs — runs autocannon in a SEPARATE node process (so the load generator never shares an
 * event loop with Miniflare) and returns compact stats: req/s, p50/p99 latency (ms, sub-ms
 * resolution), non-2xx/429/error counts and a status-code breakdown.
 *
 * Parent side: `runLoad(spec)`. Child side: this same file started with `--child`; it receives the
 * spec over IPC, runs an optional warm-up (discarded), tells the parent it is warm and waits for
 * "go" (so the parent can read the servers' CPU counters between warm-up and measurement:
 * `spec.beforeMeasure`), then runs the measured load and sends one result.
 *
 * `duration` (s) or `amount` (a fixed number of requests; then `warmupAmount` too) bounds a run.
 * `bodies` varies the body per request: connection k of n sends, round-robin, the bodies whose
 * index is k mod n, so no two connections ever send the same body (e.g. a pool of chat sessions,
 * whose concurrent turns the server would serialise).
 * Latency: autocannon's own histogram only has 1 ms resolution, so the child records every
 * response's latency itself (all statuses) and computes exact percentiles.
 */
import { fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

/** Child processes still running, so the orchestrator can kill them on Ctrl-C / error. */
export const liveChildren = new Set();

/**
 * @typedef {{ url: string, method?: string, headers?: Record<string,string>, body?: string,
 *   bodies?: string[], connections: number, duration: number, warmup: number, amount?: number,
 *   warmupAmount?: number, beforeMeasure?: () => void }} LoadSpec
 * @typedef {{ requests: number, seconds: number, rps: number, p50: number, p90: number,
 *   p99: number, max: number, non2xx: number, status429: number, errors: number, timeouts: number,
 *   statusCodes: Record<string, number> }} LoadStats
 */

/** Runs one warm-up + measured load against `spec.url` in a child process. @returns {Promise<LoadStats>} */
export function runLoad(spec) {
  const { beforeMeasure, ...wire } = spec;
  const limitMs = (spec.amount ? 600 : spec.warmup + spec.duration + 30) * 1000;
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    liveChildren.add(child);
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      liveChildren.delete(child);
      if (child.exitCode === null) child.kill("SIGKILL");
      err ? reject(err) : resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`load child exceeded ${limitMs} ms`)), limitMs);
    child.on("message", (msg) => {
      if (msg.warm) {
        try {
          beforeMeasure?.();
        } catch (err) {
          return finish(err);
        }
        return child.send({ go: true });
      }
      msg.ok ? finish(null, msg.stats) : finish(new Error(`load child: ${msg.error}`));
    });
    child.on("error", (err) => finish(err));
    child.on("exit", (code) => finish(new Error(`load child exited early with code ${code}`)));
    child.send(wire);
  });
}

// ---------------------------------------------------------------------------------------------
// Child side

/** Value at quantile q (0..1) of an ascending array. */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** autocannon's setupClient giving connection k the bodies k, k + n, k + 2n … (round-robin). */
function bodiesPerConnection(bodies, connections) {
  let clients = 0;
  return (client) => {
    const slot = clients++ % connections;
    let mine = bodies.filter((_, j) => j % connections === slot);
    if (mine.length === 0) mine = [bodies[slot % bodies.length]];
    client.setRequests(mine.map((body) => ({ body })));
  };
}

async function measure(autocannon, spec, { duration, amount }) {
  const latencies = [];
  const startedAt = performance.now();
  let lastResponseAt = startedAt;
  const instance = autocannon({
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    body: spec.bodies?.[0] ?? spec.body,
    connections: spec.connections,
    ...(amount ? { amount: Math.max(amount, spec.connections) } : { duration }),
    ...(spec.bodies?.length ? { setupClient: bodiesPerConnection(spec.bodies, spec.connections) } : {}),
    timeout: 10,
  });
  instance.on("response", (_client, _status, _bytes, ms) => {
    latencies.push(ms);
    lastResponseAt = performance.now();
  });
  const r = await instance;
  latencies.sort((a, b) => a - b);
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
  const requests = latencies.length;
  // autocannon ends a run only at its next 1 s sample tick, so with `amount` its duration is
  // rounded up to whole seconds: time from the start to the last response instead.
  const seconds = amount ? (lastResponseAt - startedAt) / 1000 : r.duration;
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    non2xx: r.non2xx,
    status429: statusCodes["429"] ?? 0,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  };
}

async function childMain() {
  const { default: autocannon } = await import("autocannon");
  process.once("message", async (spec) => {
    try {
      if (spec.amount ? spec.warmupAmount > 0 : spec.warmup > 0)
        await measure(autocannon, spec, { duration: spec.warmup, amount: spec.amount ? spec.warmupAmount : undefined });
      await new Promise((resolve) => {
        process.once("message", resolve); // { go: true }
        process.send({ warm: true });
      });
      const stats = await measure(autocannon, spec, { duration: spec.duration, amount: spec.amount });
      process.send({ ok: true, stats }, () => process.exit(0));
    } catch (err) {
      process.send({ ok: false, error: String(err?.stack ?? err) }, () => process.exit(1));
    }
  });
  process.on("disconnect", () => process.exit(0)); // parent went away: stop generating load
}

if (process.argv[2] === "--child") await childMain();
