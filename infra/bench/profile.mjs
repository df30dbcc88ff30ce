/**
 * profile.mjs — where the mesh spends its CPU on one scenario: `pnpm bench:profile --scenario
 * chat-completions`. Starts the mesh as `pnpm bench` does (plain workerd, chat on the mock
 * upstream) with an inspector port, starts V8's sampling profiler in every worker's isolate, drives
 * the scenario's subject request with N connections for a few seconds, and prints the functions
 * with the most self samples per worker (file:line of the built bundle), and the share of all
 * JS samples each worker took. The `.cpuprofile` files are written to infra/bench/results/profiles/
 * for Chrome DevTools (Performance → Load profile). Not a benchmark: the profiler itself costs
 * CPU, so read shares, not absolute times.
 *
 * Options: --scenario NAME (default chat-completions) --duration S (5) --connections N (10)
 *          --top N (15) --interval US (sampling interval, 200)
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildWorkers, freePort, REPO_ROOT, startMesh } from "./mesh.mjs";
import { startMockUpstream } from "./mock-upstream.mjs";
import { scenarios } from "./scenarios.mjs";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "chat-completions" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    top: { type: "string", default: "15" },
    interval: { type: "string", default: "200" },
  },
});

const WebSocket = createRequire(createRequire(import.meta.url).resolve("miniflare"))("ws");

/** A DevTools protocol session on one inspector target. */
function session(url) {
  const ws = new WebSocket(url);
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data));
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    message.error ? waiter.reject(new Error(message.error.message)) : waiter.resolve(message.result);
  });
  const opened = new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  return {
    opened,
    call: (method, params = {}) =>
      new Promise((resolve, reject) => {
        pending.set(++id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Self samples per function of a V8 CPU profile, largest first. */
function selfTimes(profile) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  // Samples are counted, not weighted by their time deltas: workerd's profiler thread samples an
  // isolate only while it runs, so a delta may span a long idle wait of a rarely busy isolate.
  const hits = new Map();
  for (const nodeId of profile.samples) hits.set(nodeId, (hits.get(nodeId) ?? 0) + 1);
  const byFunction = new Map();
  let total = 0;
  for (const [nodeId, us] of hits) {
    const frame = byNode.get(nodeId).callFrame;
    const file = frame.url ? frame.url.replace(/^.*\/workers\//, "") : "";
    const key = `${frame.functionName || "(anonymous)"} ${file}${file ? `:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    total += us;
  }
  return { total, rows: [...byFunction].sort((a, b) => b[1] - a[1]) };
}

async function drive({ url, method, headers, body }, connections, seconds) {
  const deadline = Date.now() + seconds * 1000;
  let requests = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const response = await fetch(url, { method, headers, body });
        await response.arrayBuffer();
        if (response.ok) requests++;
        else failures++;
      }
    }),
  );
  return { requests, failures };
}

const scenario = scenarios.find((s) => s.name === args.scenario);
if (scenario?.subject?.target !== "gateway") {
  console.error(`--scenario must name an autocannon scenario whose subject is the gateway (got ${args.scenario})`);
  process.exit(2);
}

const mock = await startMockUpstream();
await buildWorkers();
const operatorToken = randomBytes(32).toString("hex");
const inspectorPort = await freePort();
const mesh = await startMesh({
  port: await freePort(),
  secrets: { OPERATOR_TOKEN: operatorToken },
  bindings: { chat: { AI_PROVIDER: "openai-compatible", OPENAI_BASE_URL: `${mock.url}/v1` } },
  inspectorPort,
});
try {
  const created = await fetch(`${mesh.url}/admin/tenants/bench/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ scopes: ["chat", "search", "ingest", "tools"] }),
  });
  if (created.status !== 201) throw new Error(`creating a key: ${created.status} ${await created.text()}`);
  const ctx = { apiKey: (await created.json()).key, operatorToken, urls: { gateway: mesh.url } };
  const { subject } = scenario;
  const request = {
    url: mesh.url + subject.path,
    method: subject.method,
    headers: typeof subject.headers === "function" ? subject.headers(ctx) : subject.headers,
    body: typeof subject.body === "function" ? subject.body(ctx) : subject.body,
  };
  const connections = Number(args.connections);
  await drive(request, connections, 2); // warm up every isolate

  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()).filter((t) =>
    /^core:user:/.test(t.id ?? ""),
  );
  const sessions = await Promise.all(
    targets.map(async (target) => {
      const s = session(target.webSocketDebuggerUrl);
      await s.opened;
      await s.call("Profiler.enable");
      await s.call("Profiler.setSamplingInterval", { interval: Number(args.interval) });
      await s.call("Profiler.start");
      return { name: target.id.replace(/^core:user:/, ""), s };
    }),
  );
  const load = await drive(request, connections, Number(args.duration));
  const profiles = [];
  for (const { name, s } of sessions) {
    const { profile } = await s.call("Profiler.stop");
    s.close();
    profiles.push({ name, profile, ...selfTimes(profile) });
  }

  const dir = join(REPO_ROOT, "infra/bench/results/profiles");
  mkdirSync(dir, { recursive: true });
  const all = profiles.reduce(
    (sum, p) =>
      sum + p.rows.filter(([key]) => !/^\((idle|program|garbage collector)\)/.test(key)).reduce((s, [, n]) => s + n, 0),
    0,
  );
  console.log(
    `\n${scenario.name}: ${load.requests} requests (${load.failures} failed) in ${args.duration} s at ${connections} connections`,
  );
  for (const p of profiles.sort((a, b) => b.total - a.total)) {
    writeFileSync(join(dir, `${scenario.name}.${p.name}.cpuprofile`), JSON.stringify(p.profile));
    const count = (name) => p.rows.find(([key]) => key.startsWith(name))?.[1] ?? 0;
    const busy = p.rows.filter(([key]) => !/^\((idle|program|garbage collector)\)/.test(key));
    const busySamples = busy.reduce((sum, [, n]) => sum + n, 0);
    if (busySamples === 0) continue;
    console.log(
      `\n== ${p.name}: ${busySamples} samples in JS (${((100 * busySamples) / all).toFixed(0)} % of all busy samples) · (program) ${count("(program)")} · (garbage collector) ${count("(garbage collector)")} · (idle) ${count("(idle)")}`,
    );
    for (const [key, n] of busy.slice(0, Number(args.top))) {
      console.log(`   ${((100 * n) / busySamples).toFixed(1).padStart(5)} %  ${key}`);
    }
  }
  console.log(`\nprofiles written to ${dir}`);
} finally {
  await mesh.dispose();
  await mock.dispose();
}
