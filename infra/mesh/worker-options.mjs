// Miniflare options for running built workers of this repo on plain workerd: the gateway's
// multi-worker tests use them for the auxiliary (internal) workers, and `pnpm bench` for the
// whole mesh. Bindings come from each worker's wrangler.jsonc (through wrangler's own
// translation), code from its `wrangler deploy --dry-run --outdir dist` bundle.
import { execFileSync } from "node:child_process";
import { existsSync, statSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const INTERNAL_WORKERS = ["ratelimit", "chat", "rag", "ingest", "tools"];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds a worker's bundle unless dist/ is newer than its sources and the shared code. */
export function ensureBuilt(name) {
  const dir = join(repoRoot, "workers", name);
  const bundle = join(dir, "dist", "index.js");
  const sources = Math.max(
    newestMtime(join(dir, "src")),
    statSync(join(dir, "wrangler.jsonc")).mtimeMs,
    newestMtime(join(repoRoot, "shared")),
    statSync(join(repoRoot, "tenants", "index.generated.ts")).mtimeMs,
  );
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    execFileSync("pnpm", ["--silent", "build"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  }
  return bundle;
}

/** Miniflare WorkerOptions for one built worker, named as in its wrangler.jsonc. */
export function builtWorkerOptions(name, { bindings = {} } = {}) {
  const dir = join(repoRoot, "workers", name);
  const bundle = ensureBuilt(name);
  const configPath = join(dir, "wrangler.jsonc");
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
