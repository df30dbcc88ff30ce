// Miniflare options for running built workers of this repo on plain workerd: the tests use them
// for auxiliary (callee) workers, and `pnpm bench` for the whole mesh. Which workers exist comes
// from the manifest (workers.json); bindings from each worker's wrangler.jsonc (through
// wrangler's own translation), code from its `wrangler deploy --dry-run --outdir dist` bundle.
//
// The internal workers may come from another checkout: `INTERNAL_WORKERS_FROM=<its root>` (or
// `builtWorkerOptions(name, { from })`) takes each internal worker's wrangler.jsonc and bundle
// from there, already built — the compatibility test (infra/compat) runs one release's gateway
// suite against another release's internal workers that way. A worker that checkout lacks (new
// in this tree) comes from this tree.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { internalWorkers, publicWorker, repoRoot, workerNamed } from "./manifest.mjs";

export { repoRoot };
export const INTERNAL_WORKERS = internalWorkers.map((worker) => worker.name);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `build` holding a per-worker lock (a directory, created atomically), so test processes
 * that turbo runs side by side never write one worker's dist/ at the same time. A lock older
 * than two minutes is a crashed holder's and is taken over.
 */
function withBuildLock(dir, build) {
  const lock = join(dir, "dist.lock");
  for (const started = Date.now(); ; sleep(100)) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() - started > 300_000) throw new Error(`waited 5 min for ${lock}; remove it if no build is running`);
    }
  }
  try {
    build();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds a worker's bundle unless dist/ is newer than its sources and the shared code. */
export function ensureBuilt(name) {
  const { dir, configPath } = workerNamed(name);
  const bundle = join(dir, "dist", "index.js");
  const current = () =>
    existsSync(bundle) &&
    statSync(bundle).mtimeMs >=
      Math.max(
        newestMtime(join(dir, "src")),
        statSync(configPath).mtimeMs,
        newestMtime(join(repoRoot, "shared")),
        statSync(join(repoRoot, "tenants", "index.generated.ts")).mtimeMs,
      );
  if (current()) return bundle;
  withBuildLock(dir, () => {
    if (!current()) execFileSync("pnpm", ["--silent", "build"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  });
  return bundle;
}

/** The other checkout internal workers come from (`from`, else INTERNAL_WORKERS_FROM), or null. */
function otherRoot(from = process.env.INTERNAL_WORKERS_FROM) {
  if (!from) return null;
  const root = resolve(from);
  return root === repoRoot ? null : root;
}

/** Config and bundle of internal worker `name` in checkout `root`, built there; null if it has none. */
function builtElsewhere(root, name) {
  const configPath = join(root, "workers", name, "wrangler.jsonc");
  if (!existsSync(configPath)) return null;
  const bundle = join(root, "workers", name, "dist", "index.js");
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build it in that checkout first (pnpm build)`);
  return { configPath, bundle };
}

/**
 * Miniflare WorkerOptions for one built worker, named as in its wrangler.jsonc. `from`: another
 * checkout to take an internal worker from (default INTERNAL_WORKERS_FROM; see the top).
 */
export function builtWorkerOptions(name, { bindings = {}, from } = {}) {
  const root = otherRoot(from);
  const elsewhere = root && name !== publicWorker.name ? builtElsewhere(root, name) : null;
  const configPath = elsewhere?.configPath ?? workerNamed(name).configPath;
  const bundle = elsewhere?.bundle ?? ensureBuilt(name);
  // Plain workerd runs the scripts only: Miniflare would put its asset router in front of a worker
  // with static assets (the gateway's /docs), which costs the bench ~5× its throughput. Without the
  // ASSETS binding the gateway answers /openapi.json and /docs with 404 (docs/api.md).
  const {
    workerOptions: { assets: _assets, ...workerOptions },
  } = unstable_getMiniflareWorkerOptions(configPath);
  return {
    ...workerOptions,
    name: unstable_readConfig({ config: configPath }).name,
    bindings: { ...workerOptions.bindings, ...bindings },
    modules: true,
    modulesRoot: dirname(bundle),
    scriptPath: bundle,
  };
}

/**
 * Callees per worker from this manifest, and with INTERNAL_WORKERS_FROM set also from that
 * checkout's (its workers may call one the other side does not have).
 */
function calleesByWorker() {
  const callees = new Map(internalWorkers.map((worker) => [worker.name, worker.callees]));
  callees.set(publicWorker.name, publicWorker.callees);
  const root = otherRoot();
  const manifest = root && join(root, "infra/mesh/workers.json");
  if (!manifest || !existsSync(manifest)) return callees;
  for (const entry of JSON.parse(readFileSync(manifest, "utf8")).workers ?? []) {
    if (entry.public === true) continue;
    callees.set(entry.name, [...new Set([...(callees.get(entry.name) ?? []), ...(entry.callees ?? [])])]);
  }
  return callees;
}

/** Every worker `name` reaches through its callees (from the manifest), callees' callees included. */
function reachableCallees(name) {
  const callees = calleesByWorker();
  const seen = new Set();
  const visit = (worker) => {
    for (const callee of callees.get(worker) ?? []) {
      if (seen.has(callee) || callee === name) continue;
      seen.add(callee);
      visit(callee);
    }
  };
  visit(name);
  return [...seen];
}

/**
 * Options for every worker `name` reaches (its callees and theirs, from the manifest), e.g. for a
 * worker's own tests: a callee that calls another worker needs it running beside it too.
 */
export function calleeWorkerOptions(name, overrides = {}) {
  return reachableCallees(name).map((callee) => builtWorkerOptions(callee, overrides[callee] ?? {}));
}
