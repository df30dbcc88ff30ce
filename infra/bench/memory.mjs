/**
 * memory.mjs — the `session-memory` scenario (optional: `pnpm bench --scenario session-memory`):
 * what one ChatSession Durable Object costs the single local workerd process, and whether idle
 * eviction gives it back. Reads the mesh's workerd from /proc (proc.mjs: VmRSS and its anon /
 * file / shmem parts, smaps by kind of mapping, open files, mapping count), the chat isolate's
 * V8 heap through the inspector (Runtime.getHeapUsage after HeapProfiler.collectGarbage; the mesh
 * is started with an inspector port only for this scenario), and the DO storage files on disk.
 *
 * Steps, each `sessions` requests through the gateway, 4 in flight, all non-streamed:
 *   1. stateless `POST /v1/chat/completions` (same code and model path, no Durable Object) —
 *      the control for allocator and JIT growth that is not per session;
 *   2. turns on ONE existing session (one ChatSession, its SQLite writes, N times);
 *   3. turns that each open a NEW session (`POST /v1/chat`, no sessionId) — the cost per session
 *      is step 3 minus step 2, divided by `sessions`;
 *   4. idle: readings every 10 s for `idleWaitS` seconds while workerd evicts idle objects;
 *   5. another `sessions` new sessions: does memory freed by eviction get reused?
 * Then the runtime floor: the same readings for a minimal SQLite Durable Object (one table, one
 * row, an alarm; mesh.mjs startSqliteProbe) in its own workerd, `sessions` objects.
 * With `toFailure`, last of all: new objects until the first failure, for the probe (its own
 * process) and for the mesh (new chat sessions until the first non-2xx), with the count and
 * readings at that point. This leaves the mesh refusing requests until idle objects are evicted,
 * so it is for this scenario only.
 */
import { createRequire } from "node:module";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { compatOf, freePort, startSqliteProbe } from "./mesh.mjs";
import { memoryOf, openFilesSummary, smapsSummary } from "./proc.mjs";
import { completionBody, MESSAGE } from "./scenarios.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Files and bytes under the DO/D1 persist root (tmpfs: RAM, but not in the process's RSS). */
function storageOf(root) {
  if (!root) return null;
  let files = 0;
  let bytes = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else {
        files++;
        try {
          bytes += statSync(path).size;
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(root);
  return { files, bytes };
}

/** `ws` comes with miniflare (not a dependency of the repo root), so it is resolved from there. */
function webSocketClass() {
  try {
    const fromMiniflare = createRequire(createRequire(import.meta.url).resolve("miniflare"));
    return fromMiniflare("ws");
  } catch {
    return globalThis.WebSocket ?? null;
  }
}

/** `Runtime.getHeapUsage` of one inspector target, after asking for a GC; null on failure. */
function heapOfTarget(WebSocket, target) {
  return new Promise((resolve) => {
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    const timer = setTimeout(() => {
      ws.terminate?.() ?? ws.close();
      resolve(null);
    }, 10_000);
    let id = 0;
    const pending = new Map();
    // Some methods (HeapProfiler.*) get no answer from workerd's inspector: give up after `ms`.
    const call = (method, ms = 5_000) =>
      new Promise((res) => {
        pending.set(++id, res);
        ws.send(JSON.stringify({ id, method }));
        setTimeout(() => res(null), ms);
      });
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data));
      pending.get(msg.id)?.(msg.result ?? null);
      pending.delete(msg.id);
    });
    ws.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    ws.on("open", async () => {
      await call("HeapProfiler.collectGarbage", 500);
      const usage = await call("Runtime.getHeapUsage");
      clearTimeout(timer);
      ws.close();
      resolve(usage ? { usedSize: usage.usedSize, totalSize: usage.totalSize } : null);
    });
  });
}

/**
 * V8 heaps of the mesh's own workers (`core:user:*` inspector targets; all Durable Objects of a
 * worker share its isolate), each after a GC request: `{ usedSize, totalSize }` of the chat
 * worker plus `allUsedSize`/`allTotalSize` summed over every worker. Null without an inspector.
 */
async function meshHeaps(inspectorPort) {
  if (!inspectorPort) return null;
  const WebSocket = webSocketClass();
  if (!WebSocket) return null;
  let targets;
  try {
    targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  } catch {
    return null;
  }
  const user = targets.filter((t) => t.webSocketDebuggerUrl && /^core:user:/.test(t.id ?? ""));
  const out = { usedSize: null, totalSize: null, allUsedSize: 0, allTotalSize: 0, workers: {} };
  for (const target of user) {
    const usage = await heapOfTarget(WebSocket, target);
    if (!usage) continue;
    const name = target.id.replace(/^core:user:/, "");
    out.workers[name] = usage.usedSize;
    out.allUsedSize += usage.usedSize;
    out.allTotalSize += usage.totalSize;
    if (/crispy-chat/.test(name)) Object.assign(out, { usedSize: usage.usedSize, totalSize: usage.totalSize });
  }
  return Object.keys(out.workers).length ? out : null;
}

export async function measureSessionMemory({
  url,
  apiKey,
  pid,
  inspectorPort,
  persistRoot,
  sessions,
  idleWaitS,
  toFailure = false,
  log,
}) {
  const issues = [];
  if (!pid) return { issues: ["no workerd pid for the mesh"], steps: [], findings: [] };
  const headers = {
    authorization: `Bearer ${apiKey}`,
    "content-type": "application/json",
    "cf-connecting-ip": "127.0.0.1",
  };
  const statuses = {};
  const post = async (path, body) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    const text = await res.text();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (!res.ok) throw new Error(`POST ${path} → ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text);
  };
  const many = async (n, fn, inFlight = 4) => {
    let next = 0;
    let failed = 0;
    let first;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) {
          next++;
          try {
            await fn();
          } catch (err) {
            failed++;
            first ??= err.message;
          }
        }
      }),
    );
    if (failed) issues.push(`${failed} of ${n} requests failed (first: ${first})`);
  };
  const started = Date.now();
  const steps = [];
  const snapshot = async (step) => {
    await sleep(1_000); // let in-flight work and its frees settle
    const s = {
      step,
      atS: Math.round((Date.now() - started) / 1000),
      memory: memoryOf(pid),
      smaps: smapsSummary(pid),
      openFiles: openFilesSummary(pid),
      heap: await meshHeaps(inspectorPort),
      storage: storageOf(persistRoot),
    };
    steps.push(s);
    log(
      `  ${step}: RSS ${mib(s.memory?.rss)}, ${s.memory?.maps} maps, ${s.memory?.fds} fds, V8 heap chat ${mib(s.heap?.usedSize)} / all workers ${mib(s.heap?.allUsedSize)}`,
    );
    return s;
  };

  const completion = JSON.parse(completionBody(false));
  log(`  session-memory: ${sessions} requests per step, then ${idleWaitS} s idle …`);
  // Warm the code paths (JIT, allocator caches) on both kinds of request before the first reading.
  await many(200, () => post("/v1/chat/completions", completion));
  const warm = await post("/v1/chat", { message: MESSAGE, stream: false });
  await many(50, () => post("/v1/chat", { message: MESSAGE, sessionId: warm.sessionId, stream: false }));
  const s0 = await snapshot("start (after 200 completions + 50 turns warm-up)");
  await many(sessions, () => post("/v1/chat/completions", completion));
  const s1 = await snapshot(`after ${sessions} stateless completions`);
  const { sessionId } = await post("/v1/chat", { message: MESSAGE, stream: false });
  await many(sessions, () => post("/v1/chat", { message: MESSAGE, sessionId, stream: false }));
  const s2 = await snapshot(`after ${sessions} turns on one session`);
  await many(sessions, () => post("/v1/chat", { message: MESSAGE, stream: false }));
  const s3 = await snapshot(`after ${sessions} new sessions`);
  const idle = [];
  for (let waited = 0; waited < idleWaitS; ) {
    const step = Math.min(10, idleWaitS - waited);
    await sleep(step * 1000 - 1000);
    waited += step;
    idle.push(await snapshot(`idle ${waited} s`));
  }
  const s4 = idle.at(-1) ?? s3;
  await many(sessions, () => post("/v1/chat", { message: MESSAGE, stream: false }));
  const s5 = await snapshot(`after ${sessions} more new sessions`);

  const per = (a, b, f) => {
    const x = f(a);
    const y = f(b);
    return Number.isFinite(x) && Number.isFinite(y) ? (y - x) / sessions : null;
  };
  const perSession = {
    rss: per(s2, s3, (s) => s.memory?.rss),
    rssAnon: per(s2, s3, (s) => s.memory?.rssAnon),
    rssFile: per(s2, s3, (s) => s.memory?.rssFile),
    rssShmem: per(s2, s3, (s) => s.memory?.rssShmem),
    sqliteMapped: per(s2, s3, (s) => s.smaps?.sqlite),
    anonMapped: per(s2, s3, (s) => (s.smaps ? s.smaps.anon + s.smaps.heap : null)),
    maps: per(s2, s3, (s) => s.memory?.maps),
    fds: per(s2, s3, (s) => s.memory?.fds),
    chatHeap: per(s2, s3, (s) => s.heap?.usedSize),
    allHeaps: per(s2, s3, (s) => s.heap?.allUsedSize),
    storageBytes: per(s2, s3, (s) => s.storage?.bytes),
    storageFiles: per(s2, s3, (s) => s.storage?.files),
  };
  const floor = await measureFloor({ sessions, log });
  const failure = toFailure ? await measureToFailure({ post, pid, log }) : null;

  const kb = (b) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KiB` : "n/a");
  const findings = [
    `per new session (step 3 − step 2, ÷ ${sessions}): RSS ${kb(perSession.rss)} (anon ${kb(perSession.rssAnon)}, file ${kb(perSession.rssFile)}, shmem ${kb(perSession.rssShmem)}); SQLite mappings ${kb(perSession.sqliteMapped)}; V8 heap chat ${kb(perSession.chatHeap)} (all workers ${kb(perSession.allHeaps)}); ${fmt1(perSession.maps)} maps, ${fmt1(perSession.fds)} fds, ${fmt1(perSession.storageFiles)} files / ${kb(perSession.storageBytes)} on storage`,
    `controls: ${sessions} stateless completions ${signedKb(s0, s1, sessions)} per request (V8 heaps ${signedHeap(s0, s1)}); ${sessions} turns on one session ${signedKb(s1, s2, sessions)} per turn (V8 heaps ${signedHeap(s1, s2)})`,
    `idle eviction: after ${idleWaitS} s, RSS ${mib(s4.memory?.rss)} (${signedMib(s3, s4)} vs after the new sessions), fds ${s3.memory?.fds} → ${s4.memory?.fds}, maps ${s3.memory?.maps} → ${s4.memory?.maps}`,
    `after eviction, ${sessions} more new sessions: RSS ${signedKb(s4, s5, sessions)} per session`,
    `runtime floor (minimal SQLite DO, own workerd, ${sessions} objects): RSS ${kb(floor.perObject.rss)} per object (anon ${kb(floor.perObject.rssAnon)}, shmem ${kb(floor.perObject.rssShmem)}); ${fmt1(floor.perObject.maps)} maps, ${fmt1(floor.perObject.fds)} fds`,
    ...(failure
      ? [
          `first failure: minimal SQLite DO after ${failure.probe.objects} live objects (${failure.probe.error}); chat after ${failure.mesh.sessions} new sessions (${failure.mesh.error})`,
        ]
      : []),
  ];
  return { sessions, idleWaitS, statuses, steps, perSession, floor, failure, findings, issues };
}

const shmRoot = () => (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());

/** The runtime floor: `sessions` minimal SQLite DOs in their own workerd; per-object deltas. */
async function measureFloor({ sessions, log }) {
  const dir = mkdtempSync(join(shmRoot(), "crispy-probe-"));
  const probe = await startSqliteProbe({ port: await freePort(), compat: await compatOf("gateway"), persistRoot: dir });
  try {
    const hit = async (id) => {
      const res = await fetch(`${probe.url}/?id=${id}`, { method: "POST", body: MESSAGE });
      await res.text();
      if (!res.ok) throw new Error(`probe → ${res.status}`);
    };
    let n = 0;
    const objects = async (count) => {
      const end = n + count;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (n < end) await hit(`o${n++}`);
        }),
      );
    };
    await objects(50);
    await sleep(1_000);
    const before = memoryOf(probe.pid);
    await objects(sessions);
    await sleep(1_000);
    const after = memoryOf(probe.pid);
    const d = (f) => (after[f] - before[f]) / sessions;
    const perObject = { rss: d("rss"), rssAnon: d("rssAnon"), rssShmem: d("rssShmem"), maps: d("maps"), fds: d("fds") };
    log(`  runtime floor: ${sessions} minimal SQLite DOs: RSS ${mib(before.rss)} → ${mib(after.rss)}`);
    return { objects: sessions, before, after, perObject };
  } finally {
    await probe.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** New objects until the first failure: the probe's (own process) and then the mesh's chat sessions. */
async function measureToFailure({ post, pid, log }) {
  const dir = mkdtempSync(join(shmRoot(), "crispy-probe-"));
  const probe = await startSqliteProbe({ port: await freePort(), compat: await compatOf("gateway"), persistRoot: dir });
  const untilFailure = async (one, cap) => {
    let n = 0;
    let error = null;
    while (!error && n < cap) {
      const results = await Promise.allSettled([0, 1, 2, 3].map(() => one()));
      n += results.filter((r) => r.status === "fulfilled").length;
      error = results.find((r) => r.status === "rejected")?.reason?.message ?? null;
    }
    return { count: n, error };
  };
  try {
    let id = 0;
    const hit = async () => {
      const res = await fetch(`${probe.url}/?id=f${id++}`, { method: "POST", body: MESSAGE });
      const text = await res.text();
      if (!res.ok) throw new Error(`${res.status} ${text.slice(0, 120)}`);
    };
    const p = await untilFailure(hit, 20_000);
    const probeAt = memoryOf(probe.pid);
    log(`  to failure: minimal SQLite DO failed after ${p.count} objects (${p.error}); RSS ${mib(probeAt?.rss)}`);
    await probe.dispose();
    const m = await untilFailure(() => post("/v1/chat", { message: MESSAGE, stream: false }), 20_000);
    const meshAt = memoryOf(pid);
    log(`  to failure: chat failed after ${m.count} more new sessions (${m.error}); RSS ${mib(meshAt?.rss)}`);
    return {
      probe: { objects: p.count, error: p.error, memory: probeAt },
      mesh: { sessions: m.count, error: m.error, memory: meshAt },
    };
  } finally {
    await probe.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mib = (b) => (Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(1)} MiB` : "n/a");
const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const signedKb = (a, b, n) => {
  const d = (b.memory?.rss - a.memory?.rss) / n;
  return Number.isFinite(d) ? `${d >= 0 ? "+" : ""}${(d / 1024).toFixed(1)} KiB RSS` : "n/a";
};
const signedHeap = (a, b) => {
  const d = b.heap?.allUsedSize - a.heap?.allUsedSize;
  return Number.isFinite(d) ? `${d >= 0 ? "+" : ""}${(d / 2 ** 20).toFixed(1)} MiB` : "n/a";
};
const signedMib = (a, b) => {
  const d = b.memory?.rss - a.memory?.rss;
  return Number.isFinite(d) ? `${d >= 0 ? "+" : ""}${(d / 2 ** 20).toFixed(1)} MiB` : "n/a";
};
