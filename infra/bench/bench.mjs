#!/usr/bin/env node
/**
 * bench.mjs — `pnpm bench`: builds the mesh, serves it on plain workerd (Miniflare API), creates an
 * API key for the `bench` tenant, then for every scenario in scenarios.mjs alternates load on the
 * baseline and the subject (A/B/A/B …, each with a warm-up) from a separate autocannon process and
 * prints req/s, p50/p99, non-2xx counts and the CPU milliseconds per request of each side's
 * workerd process, plus the subject/baseline ratios. Results also go to
 * infra/bench/results/latest.json.
 *
 * The model behind every chat scenario is an OpenAI-style mock (mock-upstream.mjs, its own
 * process): the mesh's chat worker runs on AI_PROVIDER=openai-compatible pointed at it, and the
 * baseline "passthrough-mock" worker does one fetch() to it. Scenarios on "gateway-untraced" get a
 * second mesh (own workerd, own storage, own key) with TRACING=off and USAGE_RECORDING=off.
 *
 *   pnpm bench [--duration 10] [--connections 10] [--rounds 2] [--warmup 2]
 *              [--scenario tenant-get] [--ttfb-samples 150] [--search-samples 100]
 *              [--retrieval-sizes 1000,10000] [--session-pool 32] [--new-sessions 1000]
 *              [--memory-sessions 500] [--idle-wait 150] [--memory-to-failure] [--self-test] [--no-build]
 *              [--storage tmpfs|disk] [--out file.json] [--verbose]
 *   env: BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_STORAGE, BENCH_VERBOSE=1,
 *        BENCH_TTFB_SAMPLES, BENCH_SEARCH_SAMPLES, BENCH_SESSION_POOL, BENCH_NEW_SESSIONS,
 *        BENCH_MEMORY_SESSIONS, BENCH_IDLE_WAIT
 *
 * --self-test  measures bare vs an inline one-fetch passthrough worker; needs none of the repo's
 *              workers, so it checks the harness itself (expect roughly 0.5× throughput).
 * --no-build   reuse the bundles already in workers/<name>/dist/.
 * --storage    tmpfs (default when /dev/shm exists) | disk: where workerd keeps DO/D1 SQLite files.
 *              tmpfs keeps this VM's ext4 fsync cost (~30 % of gateway throughput here) out of
 *              the numbers; production storage is not a local disk either. Always reported.
 * --off        what the "gateway-untraced" mesh switches off (default TRACING,USAGE_RECORDING);
 *              `--off TRACING` or `--off USAGE_RECORDING` measures one of the two alone.
 * Exit codes: 0 measured (targets are reported, not gated); 1 harness failure; 2 run invalid
 * (non-2xx / 429 / socket errors seen, or a pre-flight request failed); 130 interrupted.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { liveChildren, runLoad } from "./load.mjs";
import { measureSessionMemory } from "./memory.mjs";
import {
  buildWorkers,
  compatOf,
  freePort,
  MESH_WORKERS,
  REPO_ROOT,
  startBare,
  startMesh,
  startPassthrough,
  startUpstreamPassthrough,
} from "./mesh.mjs";
import { PIECES, startMockUpstream } from "./mock-upstream.mjs";
import { CLOCK_TICKS, cpuTicks, ticksToMs } from "./proc.mjs";
import { measureRetrieval } from "./retrieval.mjs";
import { completionBody, MESSAGE, scenarios as allScenarios, UNTRACED, UNTRACED_VARS } from "./scenarios.mjs";
import { measureTtfb, openAiContent, platformToken } from "./ttfb.mjs";

// ---------------------------------------------------------------------------------------------
// Options

const { values: args } = parseArgs({
  options: {
    duration: { type: "string" },
    connections: { type: "string" },
    rounds: { type: "string" },
    warmup: { type: "string" },
    "ttfb-samples": { type: "string" },
    "search-samples": { type: "string" },
    "retrieval-sizes": { type: "string" },
    "session-pool": { type: "string" },
    "new-sessions": { type: "string" },
    "memory-sessions": { type: "string" },
    "idle-wait": { type: "string" },
    "memory-to-failure": { type: "boolean", default: false },
    scenario: { type: "string", multiple: true },
    "self-test": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    off: { type: "string" },
    storage: { type: "string" },
    out: { type: "string" },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: false,
});
if (args.help) {
  console.log(
    "usage: pnpm bench [--duration s] [--connections n] [--rounds n] [--warmup s] [--scenario name]… [--ttfb-samples n] [--search-samples n] [--retrieval-sizes 1000,10000] [--session-pool n] [--new-sessions n] [--memory-sessions n] [--idle-wait s] [--memory-to-failure] [--self-test] [--no-build] [--storage tmpfs|disk] [--off TRACING,USAGE_RECORDING] [--out file] [--verbose]",
  );
  process.exit(0);
}
const num = (flag, env, dflt) => {
  const v = Number(args[flag] ?? process.env[env] ?? dflt);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${flag} must be a non-negative number`);
  return v;
};
const settings = {
  duration: num("duration", "BENCH_DURATION", 10),
  connections: Math.max(1, Math.round(num("connections", "BENCH_CONNECTIONS", 10))),
  rounds: Math.max(1, Math.round(num("rounds", "BENCH_ROUNDS", 2))),
  warmup: num("warmup", "BENCH_WARMUP", 2),
  storage: args.storage ?? process.env.BENCH_STORAGE ?? (existsSync("/dev/shm") ? "tmpfs" : "disk"),
};
/** Sequential samples per side and round for time-to-first-token scenarios. */
const TTFB_SAMPLES = Math.max(10, Math.round(num("ttfb-samples", "BENCH_TTFB_SAMPLES", 150)));
/** Sessions chat-stream continues (at least one per connection, so no two connections share one). */
const SESSION_POOL = Math.max(settings.connections, Math.round(num("session-pool", "BENCH_SESSION_POOL", 32)));
/** Measured new-session turns of chat-new-session, over all rounds (bounded: local SQLite memory). */
const NEW_SESSIONS = Math.max(settings.connections, Math.round(num("new-sessions", "BENCH_NEW_SESSIONS", 1000)));
/** session-memory: sessions per step, and how long to wait for idle eviction (s). */
const MEMORY_SESSIONS = Math.max(10, Math.round(num("memory-sessions", "BENCH_MEMORY_SESSIONS", 500)));
const IDLE_WAIT_S = num("idle-wait", "BENCH_IDLE_WAIT", 150);
/** Sequential samples per kind and round for search latency; index sizes (chunks) to measure at. */
const SEARCH_SAMPLES = Math.max(10, Math.round(num("search-samples", "BENCH_SEARCH_SAMPLES", 100)));
const RETRIEVAL_SIZES = (args["retrieval-sizes"] ?? process.env.BENCH_RETRIEVAL_SIZES)?.split(",").map(Number);
if (
  RETRIEVAL_SIZES &&
  !RETRIEVAL_SIZES.every((n, i) => Number.isInteger(n) && n > 0 && (i === 0 || n > RETRIEVAL_SIZES[i - 1]))
)
  throw new Error("--retrieval-sizes must be increasing positive integers, e.g. 1000,10000");
if (!["tmpfs", "disk"].includes(settings.storage)) throw new Error("--storage must be tmpfs or disk");
if (args.verbose) process.env.BENCH_VERBOSE = "1";
const outFile = args.out ?? join(REPO_ROOT, "infra/bench/results/latest.json");
/** What the "gateway-untraced" mesh switches off: both by default; `--off TRACING` splits the cost. */
const OFF_VARS = args.off ? Object.fromEntries(args.off.split(",").map((name) => [name.trim(), "off"])) : UNTRACED_VARS;
if (!Object.keys(OFF_VARS).every((name) => Object.hasOwn(UNTRACED_VARS, name)))
  throw new Error(`--off takes a comma list of ${Object.keys(UNTRACED_VARS).join(", ")}`);

const selected = allScenarios.filter((s) =>
  args.scenario?.length ? args.scenario.includes(s.name) : !s.optional && Boolean(s.selfTest) === args["self-test"],
);
if (!selected.length) {
  console.error(`no scenario selected (known: ${allScenarios.map((s) => s.name).join(", ")})`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Cleanup: dispose every Miniflare and kill load children, on success, error and Ctrl-C.

const servers = [];
const tempDirs = [];
async function cleanup() {
  for (const child of liveChildren) child.kill("SIGKILL");
  await Promise.allSettled(servers.splice(0).map((s) => s.dispose()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    if (interrupted) process.exit(130); // second Ctrl-C: leave now
    interrupted = true;
    console.error(`\n${sig}: stopping servers and load…`);
    cleanup().finally(() => process.exit(130));
  });
}

const log = (msg) => console.log(msg);
/** The mesh's target name; UNTRACED (scenarios.mjs) is a second mesh with tracing and usage recording off. */
const GATEWAY = "gateway";

// ---------------------------------------------------------------------------------------------
// Setup helpers

async function waitForHealth(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "no response";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
      last = `${res.status} ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gateway ${url}/health did not answer 2xx within ${timeoutMs} ms (last: ${last})`);
}

async function createApiKey(gatewayUrl, operatorToken) {
  const res = await fetch(`${gatewayUrl}/admin/tenants/bench/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ scopes: ["chat", "search", "ingest", "tools"] }),
  });
  const text = await res.text();
  if (res.status !== 201)
    throw new Error(`POST /admin/tenants/bench/keys → ${res.status} (expected 201): ${text.slice(0, 500)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`POST /admin/tenants/bench/keys returned non-JSON: ${text.slice(0, 300)}`);
  }
  const key = body.key ?? body.data?.key;
  if (typeof key !== "string" || !key) throw new Error(`admin API answered 201 without a "key": ${text.slice(0, 300)}`);
  return { key, id: body.id ?? body.data?.id };
}

/**
 * Opens `size` chat sessions (one non-streamed `POST /v1/chat` turn each, no sessionId) for
 * scenarios that continue existing sessions. Returns their ids, or throws naming the failure.
 */
async function openSessionPool(gatewayUrl, apiKey, size) {
  const ids = [];
  for (let i = 0; i < size; i++) {
    const res = await fetch(`${gatewayUrl}/v1/chat`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${apiKey}`,
        "content-type": "application/json",
        "cf-connecting-ip": "127.0.0.1",
      },
      body: JSON.stringify({ message: MESSAGE, stream: false }),
    });
    const text = await res.text();
    let sessionId;
    try {
      sessionId = JSON.parse(text).sessionId;
    } catch {
      // reported below
    }
    if (!res.ok || typeof sessionId !== "string")
      throw new Error(`POST /v1/chat (stream: false) → ${res.status} without a sessionId: ${text.slice(0, 300)}`);
    ids.push(sessionId);
  }
  return ids;
}

/**
 * Checks that the mesh's chat really answers from the mock (AI_PROVIDER=openai-compatible took
 * effect): one non-streamed completion must carry the mock's answer. Returns an issue or null.
 */
async function checkMeshModel(gatewayUrl, apiKey) {
  const want = PIECES.join("");
  try {
    const res = await fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${apiKey}`,
        "content-type": "application/json",
        "cf-connecting-ip": "127.0.0.1",
      },
      body: completionBody(false),
    });
    const text = await res.text();
    if (!res.ok) return `mesh model check: POST /v1/chat/completions → ${res.status}: ${text.slice(0, 300)}`;
    const content = JSON.parse(text).choices?.[0]?.message?.content;
    if (content !== want)
      return `mesh model check: the answer is not the mock's (chat is not on the mock upstream?): ${JSON.stringify(content).slice(0, 200)}`;
    return null;
  } catch (err) {
    return `mesh model check failed: ${err}`;
  }
}

/**
 * Resolves a scenario side into the concrete request autocannon will send. Every request carries
 * `cf-connecting-ip: 127.0.0.1`, as Cloudflare's edge would add (the direct socket does not).
 * `bodies` (a per-request body list) wins over `body`; the pre-flight sends the first one.
 */
function requestOf(side, ctx) {
  const resolve = (v) => (typeof v === "function" ? v(ctx) : v);
  const headers = { "cf-connecting-ip": "127.0.0.1", ...(resolve(side.headers) ?? {}) };
  const encode = (b) => (typeof b === "string" ? b : JSON.stringify(b));
  const bodies = resolve(side.bodies)?.map(encode);
  const body = bodies?.[0] ?? resolve(side.body);
  if (body !== undefined && typeof body !== "string") headers["content-type"] ??= "application/json";
  return {
    url: ctx.urls[side.target] + side.path,
    method: side.method ?? "GET",
    headers,
    body: body === undefined ? undefined : encode(body),
    ...(bodies ? { bodies } : {}),
  };
}

/** One request before load, so a broken route is reported with its body instead of 50k 404s. */
async function preflight(req) {
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    const text = await res.text();
    return { status: res.status, ok: res.ok, body: text.slice(0, 300) };
  } catch (err) {
    return { status: 0, ok: false, body: String(err) };
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and report

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

function summarize(rounds) {
  const requests = sum(rounds.map((r) => r.requests));
  const cpuKnown = rounds.every((r) => Number.isFinite(r.cpu?.ms));
  const mockKnown = rounds.every((r) => Number.isFinite(r.cpu?.mockMs));
  return {
    rps: mean(rounds.map((r) => r.rps)),
    p50: mean(rounds.map((r) => r.p50)),
    p99: mean(rounds.map((r) => r.p99)),
    requests,
    non2xx: sum(rounds.map((r) => r.non2xx)),
    status429: sum(rounds.map((r) => r.status429)),
    errors: sum(rounds.map((r) => r.errors + r.timeouts)),
    // CPU of the side's workerd over all measured rounds / all measured requests.
    cpuMsPerRequest: cpuKnown && requests ? sum(rounds.map((r) => r.cpu.ms)) / requests : null,
    mockCpuMsPerRequest: mockKnown && requests ? sum(rounds.map((r) => r.cpu.mockMs)) / requests : null,
  };
}

const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const signed = (n, d = 2) => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(d)}` : "n/a");
const mark = (ok) => (ok === null ? "n/a" : ok ? "MET" : "NOT MET");

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  "))
    .join("\n");
}

/** A target check: `value` against `target` (≥ when `atLeast`, else ≤); null target → no check. */
function check(name, value, target, { atLeast = false, unit = "" } = {}) {
  if (target === null || target === undefined) return null;
  const met = Number.isFinite(value) ? (atLeast ? value >= target : value <= target) : null;
  return { name, value, target, op: atLeast ? ">=" : "<=", unit, met };
}

function sideTable(a, b) {
  const header = [
    "target",
    "request",
    "req/s (mean)",
    "p50 ms",
    "p99 ms",
    "CPU ms/req",
    "mock CPU ms/req",
    "non-2xx",
    "429",
    "errors",
  ];
  const line = (side) => [
    side.target,
    `${side.method} ${side.path}`,
    fmtInt(side.mean.rps),
    fmt(side.mean.p50),
    fmt(side.mean.p99),
    fmt(side.mean.cpuMsPerRequest, 3),
    fmt(side.mean.mockCpuMsPerRequest, 3),
    side.mean.non2xx,
    side.mean.status429,
    side.mean.errors,
  ];
  return table([header, line(a), line(b)]);
}

function perRound(a, b) {
  const lines = ["  per round (req/s · p50 · p99 · CPU ms/req):"];
  for (const side of [a, b])
    lines.push(
      `    ${side.target.padEnd(16)} ${side.rounds.map((r) => `${fmtInt(r.rps)} · ${fmt(r.p50)} · ${fmt(r.p99)} · ${fmt(r.cpu?.msPerRequest, 3)}`).join("   |   ")}`,
    );
  return lines.join("\n");
}

function report(result) {
  const { baseline: a, subject: b, comparison: c } = result;
  log(`\n== ${result.name}: ${result.description}`);
  log(sideTable(a, b));
  log(perRound(a, b));
  log(`  throughput ${b.target}/${a.target}: ${fmt(c.throughputRatio)}×`);
  log(`  added p50: ${signed(c.addedP50Ms)} ms;  added p99: ${signed(c.addedP99Ms)} ms`);
  if (Number.isFinite(a.mean.cpuMsPerRequest) && Number.isFinite(b.mean.cpuMsPerRequest))
    log(
      `  CPU per request: ${b.target} ${fmt(b.mean.cpuMsPerRequest, 3)} ms vs ${a.target} ${fmt(a.mean.cpuMsPerRequest, 3)} ms (${fmt(b.mean.cpuMsPerRequest / a.mean.cpuMsPerRequest, 1)}×)`,
    );
  if (result.costRatios) {
    const addedCpu = b.mean.cpuMsPerRequest - a.mean.cpuMsPerRequest;
    log(
      `  cost of ${b.target} over ${a.target}: CPU ${fmt(c.cpuRatio, 3)}× (${signed(addedCpu, 3)} ms/req), p50 ${fmt(c.p50Ratio, 3)}×${c.oneConnectionP50Ratio === undefined ? "" : ` (at 1 connection ${fmt(c.oneConnectionP50Ratio, 3)}×)`}, throughput ${fmt(c.throughputRatio, 3)}×`,
    );
  }
  if (result.oneConnection) {
    const one = result.oneConnection;
    log("  at 1 connection:");
    log(sideTable(one.baseline, one.subject).replace(/^/gm, "    "));
    log(
      `    throughput ${fmt(one.throughputRatio)}×;  added p50 ${signed(one.addedP50Ms)} ms;  added p99 ${signed(one.addedP99Ms)} ms`,
    );
  }
  if (result.ttfb) {
    const t = result.ttfb;
    log(`  time to first token (first delta.content), sequential, n = ${t.subject.n} per side:`);
    log(
      `    ${a.target.padEnd(16)} p50 ${fmt(t.baseline.p50)} ms  p90 ${fmt(t.baseline.p90)} ms  p99 ${fmt(t.baseline.p99)} ms`,
    );
    log(
      `    ${b.target.padEnd(16)} p50 ${fmt(t.subject.p50)} ms  p90 ${fmt(t.subject.p90)} ms  p99 ${fmt(t.subject.p99)} ms`,
    );
    log(`    added TTFB p50 ${signed(t.addedP50Ms)} ms;  p99 ${signed(t.addedP99Ms)} ms`);
  }
  reportChecks(c.checks);
  log(result.valid ? "  run: VALID" : `  run: INVALID — ${result.issues.join("; ")}`);
}

function reportChecks(checks) {
  for (const k of checks ?? [])
    log(
      `  target ${k.name} ${k.op === ">=" ? "≥" : "≤"} ${k.target}${k.unit}: ${fmt(k.value, k.unit === " ms" && k.name.startsWith("CPU") ? 3 : 2)}${k.unit} → ${mark(k.met)}`,
    );
}

function reportRetrieval(scenario, measured) {
  log(`\n== ${scenario.name}: ${scenario.description}`);
  log(`  corpus: synthetic Markdown (seeded), ${measured.search.at(-1).documents} documents`);
  log("  ingest (chunks/s):");
  const ingestRows = [
    ["index grows to", "in-process parse→chunk→embed", "mesh POST /v1/documents", "mesh / in-process"],
  ];
  for (const step of measured.ingest)
    ingestRows.push([
      `${fmtInt(step.upTo)} chunks`,
      `${fmtInt(step.inProcess.chunksPerSecond)} (${fmtInt(step.inProcess.chunks)} in ${fmt(step.inProcess.seconds)} s)`,
      `${fmtInt(step.mesh.chunksPerSecond)} (${fmtInt(step.mesh.chunks)} in ${fmt(step.mesh.seconds)} s)`,
      `${fmt(step.ratio)}×`,
    ]);
  log(table(ingestRows).replace(/^/gm, "    "));
  log("  search latency, sequential (ms):");
  const searchRows = [
    [
      "index",
      "floor GET /v1/tenant p50 · p99",
      "search uncached p50 · p99",
      "search cached p50 · p99",
      "uncached / floor p50",
      "found",
    ],
  ];
  for (const step of measured.search)
    searchRows.push([
      `${fmtInt(step.chunks)} chunks`,
      `${fmt(step.floor.p50)} · ${fmt(step.floor.p99)}`,
      `${fmt(step.uncached.p50)} · ${fmt(step.uncached.p99)}`,
      `${fmt(step.cached.p50)} · ${fmt(step.cached.p99)}`,
      `${fmt(step.uncached.p50 / step.floor.p50)}×`,
      `${Math.round(step.foundRate * 100)} %`,
    ]);
  log(table(searchRows).replace(/^/gm, "    "));
  const [small, large] = [measured.search[0], measured.search.at(-1)];
  if (measured.search.length > 1)
    log(
      `  ${fmtInt(large.chunks)} vs ${fmtInt(small.chunks)} chunks: uncached search p50 ${fmt(large.uncached.p50 / small.uncached.p50)}×, p99 ${fmt(large.uncached.p99 / small.uncached.p99)}×`,
    );
  if (measured.search.some((s) => s.cacheHitRate < 1)) log("  note: some repeated searches were not cache hits");
}

// ---------------------------------------------------------------------------------------------
// Load runs

/**
 * A/B/A/B rounds of autocannon load on both sides at `connections`, each measured run bracketed
 * by readings of the side's workerd CPU counters (and the mock's), taken after the warm-up.
 */
async function abRounds(label, sides, reqs, ctx, { connections, amount }) {
  const rounds = { baseline: [], subject: [] };
  for (let r = 1; r <= settings.rounds; r++) {
    for (const k of ["baseline", "subject"]) {
      process.stdout.write(`  ${label} round ${r}/${settings.rounds}: ${sides[k].target} … `);
      const pid = ctx.pids[sides[k].target];
      const mockPid = ctx.pids.mock;
      let before = null;
      let mockBefore = null;
      const stats = await runLoad({
        ...reqs[k],
        connections,
        duration: settings.duration,
        warmup: settings.warmup,
        // A fixed count bounds only the side that needs it (new sessions); the other side keeps its
        // duration, so a one-off stall cannot dominate a few hundred milliseconds of load.
        ...(amount?.sides.includes(k) ? { amount: amount.perRound, warmupAmount: amount.warmup } : {}),
        beforeMeasure: () => {
          before = cpuTicks(pid);
          mockBefore = cpuTicks(mockPid);
        },
      });
      const after = cpuTicks(pid);
      const mockAfter = cpuTicks(mockPid);
      const ms = before !== null && after !== null ? ticksToMs(after - before) : null;
      const mockMs = mockBefore !== null && mockAfter !== null ? ticksToMs(mockAfter - mockBefore) : null;
      stats.cpu = {
        pid: pid ?? null,
        ms,
        msPerRequest: ms !== null && stats.requests ? ms / stats.requests : null,
        mockMs,
        mockMsPerRequest: mockMs !== null && stats.requests ? mockMs / stats.requests : null,
      };
      rounds[k].push(stats);
      log(
        `${fmtInt(stats.rps)} req/s, p50 ${fmt(stats.p50)} ms, p99 ${fmt(stats.p99)} ms, CPU ${fmt(stats.cpu.msPerRequest, 3)} ms/req, non-2xx ${stats.non2xx}`,
      );
    }
  }
  return rounds;
}

function sidesOf(sides, reqs, preflights, rounds) {
  const side = (k) => ({
    target: sides[k].target,
    method: reqs[k].method,
    path: sides[k].path,
    ...(preflights ? { preflight: preflights[k] } : {}),
    rounds: rounds[k],
    mean: summarize(rounds[k]),
  });
  return { baseline: side("baseline"), subject: side("subject") };
}

function loadIssues(label, ...sides) {
  const issues = [];
  for (const s of sides) {
    if (s.mean.non2xx)
      issues.push(
        `${label}${s.target}: ${s.mean.non2xx} non-2xx responses (${s.mean.status429} × 429) — codes ${JSON.stringify(Object.assign({}, ...s.rounds.map((r) => r.statusCodes)))}`,
      );
    if (s.mean.errors) issues.push(`${label}${s.target}: ${s.mean.errors} socket errors/timeouts`);
  }
  return issues;
}

const TOKEN_MATCHERS = { openAiContent, platformToken };
const ttfbSide = (req, token) => ({
  url: req.url,
  headers: req.headers,
  body: req.body,
  isToken: TOKEN_MATCHERS[token],
});

async function runTtfb(label, baselineReq, subjectReq, tokens) {
  log(`  ${label}: time to first token, ${settings.rounds} round(s) × ${TTFB_SAMPLES} sequential samples per side …`);
  const measured = await measureTtfb({
    baseline: ttfbSide(baselineReq, tokens.baseline),
    subject: ttfbSide(subjectReq, tokens.subject),
    samples: TTFB_SAMPLES,
    rounds: settings.rounds,
  });
  return {
    ...measured,
    addedP50Ms: measured.subject.p50 - measured.baseline.p50,
    addedP99Ms: measured.subject.p99 - measured.baseline.p99,
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function runAutocannonScenario(scenario, ctx) {
  const sides = { baseline: scenario.baseline, subject: scenario.subject };
  const issues = [];
  if (scenario.needs?.includes("sessionPool") && !ctx.sessionPool) {
    log(`  opening ${SESSION_POOL} chat sessions for ${scenario.name} (POST /v1/chat, stream: false) …`);
    try {
      ctx.sessionPool = await openSessionPool(ctx.urls.gateway, ctx.apiKey, SESSION_POOL);
    } catch (err) {
      issues.push(`session pool: ${err.message}`);
    }
  }
  if (issues.length) return { name: scenario.name, description: scenario.description, valid: false, issues };
  const reqs = Object.fromEntries(Object.entries(sides).map(([k, side]) => [k, requestOf(side, ctx)]));
  const preflights = {};
  for (const [k, req] of Object.entries(reqs)) {
    preflights[k] = await preflight(req);
    if (!preflights[k].ok)
      issues.push(
        `pre-flight ${sides[k].target} ${req.method} ${sides[k].path} → ${preflights[k].status}: ${preflights[k].body}`,
      );
  }
  const amount =
    scenario.amount === "newSessions"
      ? {
          perRound: Math.ceil(NEW_SESSIONS / settings.rounds),
          warmup: Math.max(settings.connections, 50),
          sides: ["subject"],
        }
      : undefined;
  if (amount)
    log(
      `  ${scenario.name}: ${sides.subject.target}: ${amount.perRound} measured requests per round (+ ${amount.warmup} warm-up) instead of a duration; ${sides.baseline.target}: ${settings.duration} s`,
    );
  const rounds = await abRounds(scenario.name, sides, reqs, ctx, { connections: settings.connections, amount });
  const { baseline, subject } = sidesOf(sides, reqs, preflights, rounds);
  issues.push(...loadIssues("", baseline, subject));

  let oneConnection;
  if (scenario.oneConnection && settings.connections !== 1) {
    const one = await abRounds(`${scenario.name} @1 conn`, sides, reqs, ctx, { connections: 1 });
    const s = sidesOf(sides, reqs, null, one);
    issues.push(...loadIssues("1 connection: ", s.baseline, s.subject));
    oneConnection = {
      connections: 1,
      ...s,
      throughputRatio: s.subject.mean.rps / s.baseline.mean.rps,
      addedP50Ms: s.subject.mean.p50 - s.baseline.mean.p50,
      addedP99Ms: s.subject.mean.p99 - s.baseline.mean.p99,
    };
  }
  let ttfb;
  if (scenario.ttfb) ttfb = await runTtfb(scenario.name, reqs.baseline, reqs.subject, scenario.ttfb);

  // `targets: null` means the scenario reports figures with no target of its own.
  const targets = scenario.targets === undefined ? { minThroughputRatio: 0.5, maxAddedP50Ms: 2 } : scenario.targets;
  const throughputRatio = subject.mean.rps / baseline.mean.rps;
  const addedP50Ms = subject.mean.p50 - baseline.mean.p50;
  const oneConnP50 = oneConnection ? oneConnection.addedP50Ms : settings.connections === 1 ? addedP50Ms : null;
  const checks = targets
    ? [
        check("throughput ratio", throughputRatio, targets.minThroughputRatio, { atLeast: true, unit: "×" }),
        check(`added p50 at ${settings.connections} connections`, addedP50Ms, targets.maxAddedP50Ms, { unit: " ms" }),
        check("added p50 at 1 connection", oneConnP50, targets.maxAddedP50MsOneConnection, { unit: " ms" }),
        check("added TTFB p50", ttfb?.addedP50Ms, targets.maxAddedTtfbP50Ms, { unit: " ms" }),
        check(
          `CPU ms per request (${subject.target} workerd)`,
          subject.mean.cpuMsPerRequest,
          targets.maxCpuMsPerRequest,
          {
            unit: " ms",
          },
        ),
      ].filter(Boolean)
    : [];
  const comparison = {
    throughputRatio,
    addedP50Ms,
    addedP99Ms: subject.mean.p99 - baseline.mean.p99,
    cpuRatio: subject.mean.cpuMsPerRequest / baseline.mean.cpuMsPerRequest,
    p50Ratio: subject.mean.p50 / baseline.mean.p50,
    ...(oneConnection
      ? { oneConnectionP50Ratio: oneConnection.subject.mean.p50 / oneConnection.baseline.mean.p50 }
      : {}),
    targets,
    throughputMet: targets?.minThroughputRatio != null ? throughputRatio >= targets.minThroughputRatio : null,
    addedP50Met: targets?.maxAddedP50Ms != null ? addedP50Ms <= targets.maxAddedP50Ms : null,
    checks,
  };
  const result = {
    name: scenario.name,
    description: scenario.description,
    valid: issues.length === 0,
    issues,
    ...(scenario.costRatios ? { costRatios: true } : {}),
    connections: settings.connections,
    ...(amount ? { amount } : {}),
    baseline,
    subject,
    ...(oneConnection ? { oneConnection } : {}),
    ...(ttfb ? { ttfb } : {}),
    comparison,
  };
  report(result);
  return result;
}

async function runTtfbScenario(scenario, ctx) {
  const reqs = { baseline: requestOf(scenario.baseline, ctx), subject: requestOf(scenario.subject, ctx) };
  const issues = [];
  for (const k of ["baseline", "subject"]) {
    const pf = await preflight(reqs[k]);
    if (!pf.ok) issues.push(`pre-flight ${scenario[k].target} ${scenario[k].path} → ${pf.status}: ${pf.body}`);
  }
  if (issues.length) return { name: scenario.name, description: scenario.description, valid: false, issues };
  const measured = await runTtfb(scenario.name, reqs.baseline, reqs.subject, {
    baseline: scenario.baseline.token,
    subject: scenario.subject.token,
  });
  const targets = scenario.targets;
  const checks = [check("added TTFB p50", measured.addedP50Ms, targets?.maxAddedP50Ms, { unit: " ms" })].filter(
    Boolean,
  );
  const result = {
    name: scenario.name,
    description: scenario.description,
    valid: true,
    issues,
    ttfb: {
      baseline: { target: scenario.baseline.target, path: scenario.baseline.path, ...measured.baseline },
      subject: { target: scenario.subject.target, path: scenario.subject.path, ...measured.subject },
    },
    comparison: {
      addedP50Ms: measured.addedP50Ms,
      addedP99Ms: measured.addedP99Ms,
      targets,
      addedP50Met: checks[0]?.met ?? null,
      checks,
    },
  };
  log(`\n== ${scenario.name}: ${scenario.description}`);
  for (const k of ["baseline", "subject"]) {
    const t = result.ttfb[k];
    log(
      `  ${`${t.target} POST ${t.path}`.padEnd(42)} p50 ${fmt(t.p50)} ms  p90 ${fmt(t.p90)} ms  p99 ${fmt(t.p99)} ms  (n=${t.n})`,
    );
  }
  log(`  added p50: ${signed(measured.addedP50Ms)} ms;  added p99: ${signed(measured.addedP99Ms)} ms`);
  reportChecks(checks);
  return result;
}

function reportMemory(scenario, m) {
  log(`\n== ${scenario.name}: ${scenario.description}`);
  const mb = (b) => (Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(1)} MiB` : "n/a");
  const rows = [
    ["step", "RSS", "anon", "file", "shmem", "maps", "fds", "V8 heap chat", "V8 heaps all", "storage files"],
  ];
  for (const s of m.steps)
    rows.push([
      s.step,
      mb(s.memory?.rss),
      mb(s.memory?.rssAnon),
      mb(s.memory?.rssFile),
      mb(s.memory?.rssShmem),
      s.memory?.maps ?? "n/a",
      s.memory?.fds ?? "n/a",
      mb(s.heap?.usedSize),
      mb(s.heap?.allUsedSize),
      s.storage ? `${s.storage.files} · ${mb(s.storage.bytes)}` : "n/a",
    ]);
  log(table(rows).replace(/^/gm, "    "));
  for (const line of m.findings) log(`  ${line}`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const startedAt = new Date().toISOString();
  const needed = new Set(selected.flatMap((s) => [s.baseline.target, s.subject.target]));
  const ctx = { urls: {}, pids: {}, apiKey: undefined, apiKeys: {}, operatorToken: undefined, sessionPool: undefined };
  const compat = await compatOf("gateway");
  const setup = { compat, clockTicksPerSecond: CLOCK_TICKS, processes: {} };
  const setupIssues = [];
  const wantsMemory = selected.some((s) => s.kind === "memory");
  log(
    `bench: ${selected.map((s) => s.name).join(", ")} · ${settings.connections} connections · ${settings.duration}s measured + ${settings.warmup}s warm-up per target · ${settings.rounds} round(s) A/B · storage ${settings.storage} · ${cpus().length} CPUs · node ${process.version}`,
  );
  const noteProcess = (target, server) => {
    ctx.pids[target] = server.pid ?? null;
    setup.processes[target] = { pid: server.pid ?? null, found: server.pidHow ?? "forked by the harness" };
    if (!server.pid) log(`  warning: no workerd pid for ${target} (${server.pidHow}); its CPU is reported as n/a`);
  };

  if (needed.has("gateway") || needed.has(UNTRACED) || needed.has("passthrough-mock")) {
    const mock = await startMockUpstream();
    servers.push(mock);
    ctx.urls.mock = mock.url;
    noteProcess("mock", mock);
    log(`mock model upstream on ${mock.url} (node process ${mock.pid})`);
  }
  let persistRoot;
  const meshTargets = [GATEWAY, UNTRACED].filter((target) => needed.has(target));
  if (meshTargets.length && !args["no-build"]) {
    log("building workers (wrangler deploy --dry-run --outdir workers/<name>/dist, skipped when current) …");
    await buildWorkers();
  }
  if (meshTargets.length) ctx.operatorToken = randomBytes(32).toString("hex");
  for (const target of meshTargets) {
    // undefined → Miniflare's own temp dir on disk; each mesh its own (its own D1, DOs, keys).
    const root = settings.storage === "tmpfs" ? mkdtempSync("/dev/shm/crispy-bench-") : undefined;
    if (root) tempDirs.push(root);
    if (target === GATEWAY) persistRoot = root;
    const inspectorPort = wantsMemory && target === GATEWAY ? await freePort() : undefined;
    // Chat's model is the mock: the same upstream the passthrough baseline fetches.
    const chatModel = { AI_PROVIDER: "openai-compatible", OPENAI_BASE_URL: `${ctx.urls.mock}/v1` };
    const mesh = await startMesh({
      port: await freePort(),
      secrets: { OPERATOR_TOKEN: ctx.operatorToken },
      bindings:
        target === UNTRACED
          ? Object.fromEntries(
              MESH_WORKERS.map((name) => [name, { ...OFF_VARS, ...(name === "chat" ? chatModel : {}) }]),
            )
          : { chat: chatModel },
      persistRoot: root,
      inspectorPort,
    });
    servers.push(mesh);
    ctx.urls[target] = mesh.url;
    if (target === GATEWAY) ctx.inspectorPort = inspectorPort;
    noteProcess(target, mesh);
    setup.migrations = mesh.migrations;
    setup.chatProvider = chatModel;
    if (target === UNTRACED) setup.untracedVars = OFF_VARS;
    log(
      `${
        target === UNTRACED
          ? `second mesh (${Object.entries(OFF_VARS)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")} in every worker)`
          : "mesh"
      } on ${mesh.url} (direct socket to the gateway; workerd pid ${mesh.pid ?? "?"} via ${mesh.pidHow}) · D1 migrations: ${mesh.migrations.join(", ") || "none"} · chat model: openai-compatible → mock`,
    );
    await waitForHealth(mesh.url);
    if (selected.some((s) => s.needs?.includes("apiKey"))) {
      const key = await createApiKey(mesh.url, ctx.operatorToken);
      ctx.apiKeys[target] = key.key;
      if (target === GATEWAY) {
        ctx.apiKey = key.key;
        setup.apiKeyId = key.id;
      }
      log(`api key created for tenant bench on ${target} (id ${key.id ?? "?"})`);
      const problem = await checkMeshModel(mesh.url, key.key);
      if (problem) setupIssues.push(`${target}: ${problem}`);
      else log(`${target} model check: POST /v1/chat/completions answers with the mock's text`);
    }
  }
  for (const [target, start] of [
    ["bare", startBare],
    ["passthrough", startPassthrough],
    ["passthrough-mock", startUpstreamPassthrough],
  ]) {
    if (!needed.has(target)) continue;
    const server = await start({ port: await freePort(), compat, upstream: ctx.urls.mock });
    servers.push(server);
    ctx.urls[target] = server.url;
    noteProcess(target, server);
    log(`${target} worker on ${server.url} (direct socket; workerd pid ${server.pid ?? "?"} via ${server.pidHow})`);
  }
  for (const issue of setupIssues) log(`SETUP ISSUE: ${issue}`);

  const results = [];
  for (const scenario of selected) {
    if (scenario.kind === "retrieval") {
      const measured = await measureRetrieval({
        url: ctx.urls.gateway,
        apiKey: ctx.apiKey,
        sizes: RETRIEVAL_SIZES ?? scenario.sizes,
        samples: SEARCH_SAMPLES,
        rounds: settings.rounds,
        inFlight: 4,
        log,
      });
      results.push({
        name: scenario.name,
        description: scenario.description,
        valid: true,
        issues: [],
        retrieval: measured,
      });
      reportRetrieval(scenario, measured);
    } else if (scenario.kind === "ttfb") {
      results.push(await runTtfbScenario(scenario, ctx));
    } else if (scenario.kind === "memory") {
      const measured = await measureSessionMemory({
        url: ctx.urls.gateway,
        apiKey: ctx.apiKey,
        pid: ctx.pids.gateway,
        inspectorPort: ctx.inspectorPort,
        persistRoot,
        sessions: MEMORY_SESSIONS,
        idleWaitS: IDLE_WAIT_S,
        toFailure: args["memory-to-failure"],
        log,
      });
      results.push({
        name: scenario.name,
        description: scenario.description,
        valid: measured.issues.length === 0,
        issues: measured.issues,
        memory: measured,
      });
      reportMemory(scenario, measured);
    } else {
      results.push(await runAutocannonScenario(scenario, ctx));
    }
  }

  const logs = Object.fromEntries(servers.map((s) => [s.name, { lines: s.logs.lines, tail: s.logs.tail.slice(-10) }]));
  const output = {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: args["self-test"] ? "self-test" : "mesh",
    settings: {
      ...settings,
      ttfbSamples: TTFB_SAMPLES,
      sessionPool: SESSION_POOL,
      newSessions: NEW_SESSIONS,
      ...(wantsMemory ? { memorySessions: MEMORY_SESSIONS, idleWaitS: IDLE_WAIT_S } : {}),
    },
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform },
    setup: { ...setup, issues: setupIssues },
    valid: setupIssues.length === 0 && results.every((r) => r.valid),
    scenarios: results,
    workerLogs: logs,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(output, null, 2)}\n`);
  summary(output);
  log(`\nresults written to ${outFile}`);
  if (!output.valid) log("RUN INVALID: see issues above (numbers are printed but do not measure the intended path).");
  return output.valid ? 0 : 2;
}

/** One line per scenario at the end, so a whole run reads at a glance. */
function summary(output) {
  log("\n== summary");
  for (const r of output.scenarios) {
    let line = `  ${r.name.padEnd(24)} `;
    if (r.baseline?.mean) {
      const [a, b] = [r.baseline, r.subject];
      line += `${b.target} ${fmtInt(b.mean.rps)} req/s p50 ${fmt(b.mean.p50)} p99 ${fmt(b.mean.p99)} CPU ${fmt(b.mean.cpuMsPerRequest, 3)} ms/req | ${a.target} ${fmtInt(a.mean.rps)} req/s p50 ${fmt(a.mean.p50)} p99 ${fmt(a.mean.p99)} CPU ${fmt(a.mean.cpuMsPerRequest, 3)} ms/req | ${fmt(r.comparison.throughputRatio)}× ${signed(r.comparison.addedP50Ms)} ms p50`;
      if (r.oneConnection) line += ` | 1 conn ${signed(r.oneConnection.addedP50Ms)} ms p50`;
      if (r.costRatios) line += ` | CPU ${fmt(r.comparison.cpuRatio, 3)}× p50 ${fmt(r.comparison.p50Ratio, 3)}×`;
      if (r.ttfb) line += ` | TTFB ${signed(r.ttfb.addedP50Ms)} ms p50`;
    } else if (r.ttfb) {
      line += `TTFB p50 ${r.ttfb.subject.target} ${fmt(r.ttfb.subject.p50)} ms vs ${r.ttfb.baseline.target} ${fmt(r.ttfb.baseline.p50)} ms (${signed(r.comparison.addedP50Ms)} ms)`;
    } else if (r.retrieval) {
      const last = r.retrieval.search.at(-1);
      line += `ingest ${r.retrieval.ingest.map((s) => `${fmtInt(s.mesh.chunksPerSecond)} chunks/s (${fmt(s.ratio)}×)`).join(", ")}; uncached search p50 at ${fmtInt(last.chunks)} chunks ${fmt(last.uncached.p50)} ms`;
    } else if (r.memory) {
      line += r.memory.findings[0] ?? "";
    }
    const checks = r.comparison?.checks ?? [];
    const unmet = checks.filter((k) => k.met === false).length;
    if (checks.length) line += ` | targets ${checks.length - unmet}/${checks.length} MET`;
    log(`${line}${r.valid ? "" : " | INVALID"}`);
  }
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`\nbench failed: ${err?.stack ?? err}`);
  code = 1;
} finally {
  await cleanup();
}
if (!interrupted) process.exit(code);
