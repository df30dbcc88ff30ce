/**
 * mesh.mjs — builds the workers' bundles and serves them on plain workerd through Miniflare's API
 * (never `wrangler dev`, whose proxy caps throughput near 340 req/s).
 *
 *   buildWorkers(names)   each worker's deploy bundle (workers/<name>/dist), via infra/mesh
 *   startMesh(opts)       one Miniflare holding all six workers, gateway first (the entry), with
 *                         bindings translated from each wrangler.jsonc, D1 migrations applied and
 *                         a per-run OPERATOR_TOKEN secret
 *   startBare(opts)       a SEPARATE Miniflare running a hello-world worker, same compat date/flags
 *   startPassthrough(opts) self-test stand-in: a worker doing one service-binding fetch to a
 *                         hello-world upstream (separate Miniflare too)
 *   startUpstreamPassthrough(opts) the model baseline: a worker whose fetch does exactly one
 *                         fetch() to the mock upstream (mock-upstream.mjs), same path and body,
 *                         and returns its response as is (separate Miniflare)
 * Every start* returns { name, url, entryUrl, mf, logs, pid, pidHow, dispose }; `pid` is the
 * workerd process behind that Miniflare (proc.mjs: the owner of the direct socket, cross-checked
 * with the workerd that appeared while it started), for CPU and memory readings. Everything binds
 * to 127.0.0.1.
 *
 * `url` is a workerd socket bound DIRECTLY to the entry worker (Miniflare `unsafeDirectSockets`).
 * Miniflare's own entry socket (`entryUrl`) first runs an internal router worker (cf blob, pretty
 * errors, encoding) which on this machine cut a bare worker from ~7,000 to ~2,400 req/s and would
 * dilute every ratio, so load never goes through it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare, Log, LogLevel } from "miniflare";
import { meshWorkers } from "../mesh/manifest.mjs";
import { builtWorkerOptions, ensureBuilt } from "../mesh/worker-options.mjs";
import { workerdBehind, workerdPids } from "./proc.mjs";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Mesh workers (infra/mesh/workers.json); the first is the entry (the only public worker). */
export const MESH_WORKERS = meshWorkers.map((worker) => worker.name);
const HOST = "127.0.0.1";

const configPathOf = (name) => join(REPO_ROOT, "workers", name, "wrangler.jsonc");

/** wrangler's API, imported lazily with its console chatter limited to errors. */
let wranglerApi;
async function wrangler() {
  process.env.WRANGLER_LOG ??= "error";
  process.env.WRANGLER_SEND_METRICS ??= "false";
  wranglerApi ??= await import("wrangler");
  return wranglerApi;
}

/** A currently free TCP port on 127.0.0.1 (explicit ports keep the run reproducible in logs). */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Builds each worker's deployable bundle (workers/<name>/dist) unless it is already current. */
export async function buildWorkers(names = MESH_WORKERS) {
  for (const name of names) ensureBuilt(name);
}

/** Drains workerd's stdout/stderr (worker console output) so it neither floods the table nor blocks. */
function logSink() {
  const logs = { lines: 0, tail: [] };
  const take = (stream) =>
    stream.on("data", (chunk) => {
      const lines = String(chunk).split("\n").filter(Boolean);
      logs.lines += lines.length;
      logs.tail.push(...lines);
      if (logs.tail.length > 40) logs.tail.splice(0, logs.tail.length - 40);
      if (process.env.BENCH_VERBOSE) for (const l of lines) process.stderr.write(`  [workerd] ${l}\n`);
    });
  return {
    logs,
    handleRuntimeStdio: (stdout, stderr) => {
      take(stdout);
      take(stderr);
    },
  };
}

/** Starts a Miniflare with the given workers (first = entry); `port` is the direct socket. */
async function serve(name, port, workers, { persistRoot, inspectorPort } = {}) {
  const { logs, handleRuntimeStdio } = logSink();
  const [entry, ...rest] = workers;
  const before = workerdPids();
  const mf = new Miniflare({
    host: HOST,
    port: await freePort(),
    cf: false, // no network fetch of the cf object; not used on the direct socket anyway
    log: new Log(LogLevel.WARN),
    logRequests: false,
    telemetry: { enabled: false },
    handleRuntimeStdio,
    ...(persistRoot ? { defaultPersistRoot: persistRoot } : {}),
    // Only for the session-memory scenario (V8 heap readings); never during load scenarios.
    ...(inspectorPort ? { inspectorPort } : {}),
    workers: [{ ...entry, unsafeDirectSockets: [{ host: HOST, port }] }, ...rest],
  });
  let url, entryUrl;
  try {
    entryUrl = (await mf.ready).toString().replace(/\/$/, "");
    url = (await mf.unsafeGetDirectURL(entry.name)).toString().replace(/\/$/, "");
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  const { pid, how: pidHow } = workerdBehind(port, before);
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await mf.dispose();
  };
  return { name, url, entryUrl, port, mf, logs, pid, pidHow, dispose };
}

/** Compatibility settings of a worker's wrangler.jsonc, reused so the baselines run under the same ones. */
export async function compatOf(worker = "gateway") {
  const { unstable_readConfig } = await wrangler();
  const config = unstable_readConfig({ config: configPathOf(worker) });
  return { compatibilityDate: config.compatibility_date, compatibilityFlags: config.compatibility_flags ?? [] };
}

/** Applies every D1 database's migrations_dir/*.sql (sorted) to the running mesh. */
async function applyD1Migrations(mf, workerName, config, configDir, splitSql) {
  const applied = [];
  for (const db of config.d1_databases ?? []) {
    const dir = resolve(configDir, db.migrations_dir ?? "migrations");
    if (!existsSync(dir)) continue;
    const d1 = await mf.getD1Database(db.binding, workerName);
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort()) {
      const statements = splitSql(readFileSync(join(dir, file), "utf8"));
      if (statements.length) await d1.batch(statements.map((s) => d1.prepare(s)));
      applied.push(`${db.binding}:${file}`);
    }
  }
  return applied;
}

/**
 * Starts the whole mesh on plain workerd. `secrets` are added as plain-text bindings of the entry
 * worker (e.g. OPERATOR_TOKEN), the equivalent of `wrangler secret put`. `bindings` adds vars per
 * worker, e.g. `{ chat: { AI_PROVIDER: "openai-compatible", OPENAI_BASE_URL: "http://…/v1" } }`.
 */
export async function startMesh({
  port,
  secrets = {},
  bindings: extra = {},
  names = MESH_WORKERS,
  persistRoot,
  inspectorPort,
}) {
  const { unstable_readConfig, unstable_splitSqlQuery } = await wrangler();
  const entries = names.map((dir, i) => {
    const config = unstable_readConfig({ config: configPathOf(dir) });
    // The local model streams without delay here: the bench measures the platform, not a pause.
    const bindings = {
      ...(i === 0 ? secrets : dir === "chat" ? { LOCAL_TOKEN_DELAY_MS: "0" } : {}),
      ...(extra[dir] ?? {}),
    };
    const options = builtWorkerOptions(dir, { bindings });
    return { dir, config, options };
  });
  const handle = await serve(
    "mesh",
    port,
    entries.map((e) => e.options),
    { persistRoot, inspectorPort },
  );
  try {
    handle.migrations = [];
    for (const e of entries) {
      const applied = await applyD1Migrations(
        handle.mf,
        e.config.name,
        e.config,
        dirname(configPathOf(e.dir)),
        unstable_splitSqlQuery,
      );
      handle.migrations.push(...applied.map((a) => `${e.dir}/${a}`));
    }
  } catch (err) {
    await handle.dispose().catch(() => {});
    throw err;
  }
  return handle;
}

const HELLO = `export default { fetch() { return new Response("ok"); } };`;

/** The baseline: a bare hello-world worker in its own Miniflare (own workerd process). */
export async function startBare({ port, compat }) {
  return serve("bare", port, [{ name: "bare", modules: true, script: HELLO, ...compat }]);
}

/** Self-test stand-in for the gateway: one service-binding fetch to a hello-world upstream. */
export async function startPassthrough({ port, compat }) {
  const passthrough = `export default { fetch(request, env) { return env.UPSTREAM.fetch(request); } };`;
  return serve("passthrough", port, [
    { name: "passthrough", modules: true, script: passthrough, serviceBindings: { UPSTREAM: "upstream" }, ...compat },
    { name: "upstream", modules: true, script: HELLO, ...compat },
  ]);
}

/**
 * The baseline for model routes: exactly one fetch() to `upstream` (the mock's origin) with the
 * request's path, method, content type and body, and the upstream's response returned as is
 * (a streamed body is passed through, not read). Its own Miniflare, like the bare worker.
 */
export async function startUpstreamPassthrough({ port, compat, upstream }) {
  const script = `export default {
  fetch(request, env) {
    const url = new URL(request.url);
    const headers = {};
    const type = request.headers.get("content-type");
    if (type) headers["content-type"] = type;
    return fetch(env.UPSTREAM_ORIGIN + url.pathname + url.search, { method: request.method, headers, body: request.body });
  },
};`;
  return serve("passthrough-mock", port, [
    { name: "passthrough-mock", modules: true, script, bindings: { UPSTREAM_ORIGIN: upstream }, ...compat },
  ]);
}

/**
 * A minimal SQLite Durable Object in its own Miniflare, for session-memory's runtime floor: each
 * object creates one table and, per `POST /?id=<name>`, inserts one row and sets an alarm (as a
 * ChatSession turn does), so its cost is what workerd itself spends per live SQLite object.
 */
export async function startSqliteProbe({ port, compat, persistRoot }) {
  const script = `import { DurableObject } from "cloudflare:workers";
export class Probe extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)");
  }
  async alarm() {}
  async hit(text) {
    this.ctx.storage.sql.exec("INSERT INTO t (v) VALUES (?)", text);
    await this.ctx.storage.setAlarm(Date.now() + 86_400_000);
    return 1;
  }
}
export default {
  async fetch(request, env) {
    const id = new URL(request.url).searchParams.get("id") ?? "probe";
    await env.PROBE.get(env.PROBE.idFromName(id)).hit(await request.text());
    return new Response("ok");
  },
};`;
  return serve(
    "sqlite-probe",
    port,
    [
      {
        name: "sqlite-probe",
        modules: true,
        script,
        durableObjects: { PROBE: { className: "Probe", useSQLite: true } },
        ...compat,
      },
    ],
    { persistRoot },
  );
}
