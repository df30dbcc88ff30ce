// Miniflare options for running built workers of this repo on plain workerd: the tests use them
// for auxiliary (callee) workers, and `pnpm bench` for the whole mesh. Which workers exist comes
// from the manifest (workers.json); bindings from each worker's wrangler.jsonc (through
// wrangler's own translation), code from its `wrangler deploy --dry-run --outdir dist` bundle.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { internalWorkers, repoRoot, workerNamed } from "./manifest.mjs";

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

/** Miniflare WorkerOptions for one built worker, named as in its wrangler.jsonc. */
export function builtWorkerOptions(name, { bindings = {} } = {}) {
  const { configPath } = workerNamed(name);
  const bundle = ensureBuilt(name);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  return {
    ...workerOptions,
    name: unstable_readConfig({ config: configPath }).name,
    bindings: { ...workerOptions.bindings, ...bindings },
    modules: true,
    modulesRoot: dirname(bundle),
    scriptPath: bundle,
  };
}

/** Every worker `name` reaches through its callees (from the manifest), callees' callees included. */
function reachableCallees(name) {
  const seen = new Set();
  const visit = (worker) => {
    for (const callee of workerNamed(worker).callees) {
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
