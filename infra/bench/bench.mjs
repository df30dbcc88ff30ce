#!/usr/bin/env node
/**
 * bench.mjs — `pnpm bench`: builds the mesh, serves it on plain workerd (Miniflare API), creates an
 * API key for the `bench` tenant, then for every scenario in scenarios.mjs alternates load on the
 * baseline and the subject (A/B/A/B …, each with a warm-up) from a separate autocannon process and
 * prints req/s, p50/p99 and non-2xx counts plus the gateway/bare ratios. Results also go to
 * infra/bench/results/latest.json.
 *
 *   pnpm bench [--duration 10] [--connections 10] [--rounds 2] [--warmup 2]
 *              [--scenario tenant-get] [--ttfb-samples 100] [--search-samples 100]
 *              [--retrieval-sizes 1000,10000] [--self-test] [--no-build] [--storage tmpfs|disk]
 *              [--out file.json] [--verbose]
 *   env: BENCH_DURATION, BENCH_CONNECTIONS, BENCH_ROUNDS, BENCH_WARMUP, BENCH_STORAGE, BENCH_VERBOSE=1
 *
 * --self-test  measures bare vs an inline one-fetch passthrough worker; needs none of the repo's
 *              workers, so it checks the harness itself (expect roughly 0.5× throughput).
 * --no-build   reuse the bundles already in workers/<name>/dist/.
 * --storage    tmpfs (default when /dev/shm exists) | disk: where workerd keeps DO/D1 SQLite files.
 *              tmpfs keeps this VM's ext4 fsync cost (~30 % of gateway throughput here) out of
 *              the numbers; production storage is not a local disk either. Always reported.
 * Exit codes: 0 measured (targets are reported, not gated); 1 harness failure; 2 run invalid
 * (non-2xx / 429 / socket errors seen, or a pre-flight request failed); 130 interrupted.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { measureRetrieval } from "./retrieval.mjs";
import { measureTtfb } from "./ttfb.mjs";
import { buildWorkers, compatOf, freePort, REPO_ROOT, startBare, startMesh, startPassthrough } from "./mesh.mjs";
import { liveChildren, runLoad } from "./load.mjs";
import { scenarios as allScenarios } from "./scenarios.mjs";

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
    scenario: { type: "string", multiple: true },
    "self-test": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    storage: { type: "string" },
    out: { type: "string" },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: false,
});
if (args.help) {
  console.log(
    "usage: pnpm bench [--duration s] [--connections n] [--rounds n] [--warmup s] [--scenario name]… [--ttfb-samples n] [--search-samples n] [--retrieval-sizes 1000,10000] [--self-test] [--no-build] [--storage tmpfs|disk] [--out file] [--verbose]",
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
const TTFB_SAMPLES = Math.max(10, Math.round(num("ttfb-samples", "BENCH_TTFB_SAMPLES", 100)));
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
 * Resolves a scenario side into the concrete request autocannon will send. Every request carries
 * `cf-connecting-ip: 127.0.0.1`, as Cloudflare's edge would add (the direct socket does not).
 */
function requestOf(side, ctx) {
  const resolve = (v) => (typeof v === "function" ? v(ctx) : v);
  const headers = { "cf-connecting-ip": "127.0.0.1", ...(resolve(side.headers) ?? {}) };
  const body = resolve(side.body);
  if (body !== undefined && typeof body !== "string") headers["content-type"] ??= "application/json";
  return {
    url: ctx.urls[side.target] + side.path,
    method: side.method ?? "GET",
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
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
  return {
    rps: mean(rounds.map((r) => r.rps)),
    p50: mean(rounds.map((r) => r.p50)),
    p99: mean(rounds.map((r) => r.p99)),
    requests: sum(rounds.map((r) => r.requests)),
    non2xx: sum(rounds.map((r) => r.non2xx)),
    status429: sum(rounds.map((r) => r.status429)),
    errors: sum(rounds.map((r) => r.errors + r.timeouts)),
  };
}

const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  "))
    .join("\n");
}

function report(result) {
  const { baseline: a, subject: b, comparison: c } = result;
  log(`\n== ${result.name}: ${result.description}`);
  const header = ["target", "request", "req/s (mean)", "p50 ms", "p99 ms", "non-2xx", "429", "errors"];
  const line = (side) => [
    side.target,
    `${side.method} ${side.path}`,
    fmtInt(side.mean.rps),
    fmt(side.mean.p50),
    fmt(side.mean.p99),
    side.mean.non2xx,
    side.mean.status429,
    side.mean.errors,
  ];
  log(table([header, line(a), line(b)]));
  log("  per round (req/s · p50 · p99):");
  for (const side of [a, b])
    log(
      `    ${side.target.padEnd(12)} ${side.rounds.map((r) => `${fmtInt(r.rps)} · ${fmt(r.p50)} · ${fmt(r.p99)}`).join("   |   ")}`,
    );
  const mark = (ok) => (ok ? "MET" : "NOT MET");
  const against = (text) => (c.targets ? `  (${text})` : "");
  log(
    `  throughput ${b.target}/${a.target}: ${fmt(c.throughputRatio)}×${against(`target ≥ ${c.targets?.minThroughputRatio}×: ${mark(c.throughputMet)}`)}`,
  );
  log(
    `  added p50: ${c.addedP50Ms >= 0 ? "+" : ""}${fmt(c.addedP50Ms)} ms${against(`target ≤ ${c.targets?.maxAddedP50Ms} ms: ${mark(c.addedP50Met)}`)}`,
  );
  log(`  added p99: ${c.addedP99Ms >= 0 ? "+" : ""}${fmt(c.addedP99Ms)} ms`);
  log(result.valid ? "  run: VALID" : `  run: INVALID — ${result.issues.join("; ")}`);
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
// Main

async function main() {
  const startedAt = new Date().toISOString();
  const needed = new Set(selected.flatMap((s) => [s.baseline.target, s.subject.target]));
  const ctx = { urls: {}, apiKey: undefined, operatorToken: undefined };
  const compat = await compatOf("gateway");
  const setup = { compat };
  log(
    `bench: ${selected.map((s) => s.name).join(", ")} · ${settings.connections} connections · ${settings.duration}s measured + ${settings.warmup}s warm-up per target · ${settings.rounds} round(s) A/B · storage ${settings.storage} · ${cpus().length} CPUs · node ${process.version}`,
  );

  if (needed.has("gateway")) {
    if (!args["no-build"]) {
      log("building workers (wrangler deploy --dry-run --outdir workers/<name>/dist, skipped when current) …");
      await buildWorkers();
    }
    ctx.operatorToken = randomBytes(32).toString("hex");
    // undefined → Miniflare's own temp dir on disk
    const persistRoot = settings.storage === "tmpfs" ? mkdtempSync("/dev/shm/crispy-bench-") : undefined;
    if (persistRoot) tempDirs.push(persistRoot);
    const mesh = await startMesh({
      port: await freePort(),
      secrets: { OPERATOR_TOKEN: ctx.operatorToken },
      persistRoot,
    });
    servers.push(mesh);
    ctx.urls.gateway = mesh.url;
    setup.migrations = mesh.migrations;
    log(`mesh on ${mesh.url} (direct socket to the gateway) · D1 migrations: ${mesh.migrations.join(", ") || "none"}`);
    await waitForHealth(mesh.url);
    if (selected.some((s) => s.needs?.includes("apiKey"))) {
      const key = await createApiKey(mesh.url, ctx.operatorToken);
      ctx.apiKey = key.key;
      setup.apiKeyId = key.id;
      log(`api key created for tenant bench (id ${key.id ?? "?"})`);
    }
  }
  for (const [target, start] of [
    ["bare", startBare],
    ["passthrough", startPassthrough],
  ]) {
    if (!needed.has(target)) continue;
    const server = await start({ port: await freePort(), compat });
    servers.push(server);
    ctx.urls[target] = server.url;
    log(`${target} worker on ${server.url} (direct socket)`);
  }

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
      continue;
    }
    if (scenario.kind === "ttfb") {
      log(`  ${scenario.name}: ${settings.rounds} round(s) × ${TTFB_SAMPLES} sequential samples per side …`);
      const measured = await measureTtfb({
        url: ctx.urls.gateway,
        apiKey: ctx.apiKey,
        samples: TTFB_SAMPLES,
        rounds: settings.rounds,
      });
      const addedP50Ms = measured.gateway.p50 - measured.direct.p50;
      const result = {
        name: scenario.name,
        description: scenario.description,
        valid: true,
        issues: [],
        ttfb: measured,
        comparison: {
          addedP50Ms,
          addedP99Ms: measured.gateway.p99 - measured.direct.p99,
          targets: scenario.targets,
          addedP50Met: addedP50Ms <= scenario.targets.maxAddedP50Ms,
        },
      };
      results.push(result);
      log(`\n== ${scenario.name}: ${scenario.description}`);
      log(
        `  direct (in-process local model)  p50 ${fmt(measured.direct.p50)} ms  p99 ${fmt(measured.direct.p99)} ms  (n=${measured.direct.n})`,
      );
      log(
        `  gateway POST /v1/chat (stream)   p50 ${fmt(measured.gateway.p50)} ms  p99 ${fmt(measured.gateway.p99)} ms  (n=${measured.gateway.n})`,
      );
      log(
        `  added p50: +${fmt(addedP50Ms)} ms  (target ≤ ${scenario.targets.maxAddedP50Ms} ms: ${result.comparison.addedP50Met ? "MET" : "NOT MET"});  added p99: +${fmt(result.comparison.addedP99Ms)} ms`,
      );
      continue;
    }
    const sides = { baseline: scenario.baseline, subject: scenario.subject };
    const reqs = Object.fromEntries(Object.entries(sides).map(([k, side]) => [k, requestOf(side, ctx)]));
    const issues = [];
    const preflights = {};
    for (const [k, req] of Object.entries(reqs)) {
      preflights[k] = await preflight(req);
      if (!preflights[k].ok)
        issues.push(
          `pre-flight ${sides[k].target} ${req.method} ${sides[k].path} → ${preflights[k].status}: ${preflights[k].body}`,
        );
    }
    const rounds = { baseline: [], subject: [] };
    for (let r = 1; r <= settings.rounds; r++) {
      for (const k of ["baseline", "subject"]) {
        process.stdout.write(`  ${scenario.name} round ${r}/${settings.rounds}: ${sides[k].target} … `);
        const stats = await runLoad({
          ...reqs[k],
          connections: settings.connections,
          duration: settings.duration,
          warmup: settings.warmup,
        });
        rounds[k].push(stats);
        log(`${fmtInt(stats.rps)} req/s, p50 ${fmt(stats.p50)} ms, p99 ${fmt(stats.p99)} ms, non-2xx ${stats.non2xx}`);
      }
    }
    const side = (k) => ({
      target: sides[k].target,
      method: reqs[k].method,
      path: sides[k].path,
      preflight: preflights[k],
      rounds: rounds[k],
      mean: summarize(rounds[k]),
    });
    const baseline = side("baseline");
    const subject = side("subject");
    for (const s of [baseline, subject]) {
      if (s.mean.non2xx)
        issues.push(
          `${s.target}: ${s.mean.non2xx} non-2xx responses (${s.mean.status429} × 429) — codes ${JSON.stringify(Object.assign({}, ...s.rounds.map((r) => r.statusCodes)))}`,
        );
      if (s.mean.errors) issues.push(`${s.target}: ${s.mean.errors} socket errors/timeouts`);
    }
    // `targets: null` means the scenario reports figures with no target of its own.
    const targets = scenario.targets === undefined ? { minThroughputRatio: 0.5, maxAddedP50Ms: 2 } : scenario.targets;
    const throughputRatio = subject.mean.rps / baseline.mean.rps;
    const addedP50Ms = subject.mean.p50 - baseline.mean.p50;
    const comparison = {
      throughputRatio,
      addedP50Ms,
      addedP99Ms: subject.mean.p99 - baseline.mean.p99,
      targets,
      throughputMet: targets ? throughputRatio >= targets.minThroughputRatio : null,
      addedP50Met: targets ? addedP50Ms <= targets.maxAddedP50Ms : null,
    };
    const result = {
      name: scenario.name,
      description: scenario.description,
      valid: issues.length === 0,
      issues,
      baseline,
      subject,
      comparison,
    };
    results.push(result);
    report(result);
  }

  const logs = Object.fromEntries(servers.map((s) => [s.name, { lines: s.logs.lines, tail: s.logs.tail.slice(-10) }]));
  const output = {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: args["self-test"] ? "self-test" : "mesh",
    settings,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform },
    setup,
    valid: results.every((r) => r.valid),
    scenarios: results,
    workerLogs: logs,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(output, null, 2)}\n`);
  log(`\nresults written to ${outFile}`);
  if (!output.valid) log("RUN INVALID: see issues above (numbers are printed but do not measure the intended path).");
  return output.valid ? 0 : 2;
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
