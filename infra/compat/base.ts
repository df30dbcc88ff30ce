/**
 * The previous release and a built checkout of it. The previous release is `COMPAT_BASE` (any
 * git ref) if set, else the newest `v*` tag that is an ancestor of HEAD — not HEAD's own tag
 * unless the working tree has changes (then the tree is the next release and HEAD is its base).
 * Its checkout is a git worktree in the gitignored `.compat/<sha>`, installed from the pnpm store
 * (`--offline`, falling back to the registry only if the store lacks a package) with its internal
 * workers built for deploy; a ready checkout is reused, and older ones are removed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../mesh/manifest.mjs";

export interface Base {
  ref: string;
  commit: string;
  /** How it was chosen, for the log. */
  how: string;
}

/** The internal workers a checkout's manifest lists (infra/mesh/workers.json at `root`). */
export function internalWorkersOf(root: string): string[] {
  const manifest = JSON.parse(readFileSync(join(root, "infra/mesh/workers.json"), "utf8")) as {
    workers: Array<{ name: string; public?: boolean }>;
  };
  return manifest.workers.filter((worker) => worker.public !== true).map((worker) => worker.name);
}

const gitIn = (cwd: string, ...args: string[]): string =>
  execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const git = (...args: string[]): string => gitIn(repoRoot, ...args);

/**
 * The previous release to test against (in the repository at `cwd`), or null when the repository
 * has none (a fresh repo). Throws in a shallow clone, whose tags may be missing.
 */
export function findBase(env: NodeJS.ProcessEnv = process.env, cwd: string = repoRoot): Base | null {
  const git = (...args: string[]): string => gitIn(cwd, ...args);
  if (env.COMPAT_BASE) {
    const commit = git("rev-parse", "--verify", `${env.COMPAT_BASE}^{commit}`);
    return { ref: env.COMPAT_BASE, commit, how: "COMPAT_BASE" };
  }
  if (git("rev-parse", "--is-shallow-repository") === "true")
    throw new Error(
      "this is a shallow clone, so the previous release's tag may be missing: fetch the full history and tags " +
        "(git fetch --unshallow --tags; in CI, fetch-depth: 0) or set COMPAT_BASE",
    );
  const head = git("rev-parse", "HEAD");
  const dirty = git("status", "--porcelain") !== "";
  for (const tag of git("tag", "--list", "v*", "--merged", "HEAD", "--sort=-v:refname").split("\n").filter(Boolean)) {
    const commit = git("rev-parse", `${tag}^{commit}`);
    if (commit !== head) return { ref: tag, commit, how: "the newest v* tag before HEAD" };
    if (dirty) return { ref: tag, commit, how: "HEAD's tag (the working tree has changes)" };
  }
  return null;
}

const COMPAT_DIR = join(repoRoot, ".compat");
const READY = ".compat-ready";

function run(cwd: string, command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status !== 0) process.stderr.write(`${result.stdout}${result.stderr}`);
  return result.status === 0;
}

/**
 * A checkout of `base` with dependencies installed and its internal workers built (reused when a
 * previous run finished preparing it); returns its root.
 */
export function prepareCheckout(base: Base, log: (line: string) => void): string {
  const dir = join(COMPAT_DIR, base.commit.slice(0, 12));
  for (const entry of existsSync(COMPAT_DIR) ? readdirSync(COMPAT_DIR) : []) {
    const other = join(COMPAT_DIR, entry);
    if (other === dir) continue;
    log(`removing the checkout of an older base, .compat/${entry}`);
    spawnSync("git", ["worktree", "remove", "--force", other], { cwd: repoRoot, stdio: "ignore" });
    rmSync(other, { recursive: true, force: true });
  }
  spawnSync("git", ["worktree", "prune"], { cwd: repoRoot, stdio: "ignore" });
  const ready = join(dir, READY);
  if (existsSync(ready) && readFileSync(ready, "utf8").trim() === base.commit) {
    log(`reusing .compat/${base.commit.slice(0, 12)} (installed and built)`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  spawnSync("git", ["worktree", "prune"], { cwd: repoRoot, stdio: "ignore" });
  git("worktree", "add", "--detach", dir, base.commit);
  let started = Date.now();
  if (!run(dir, "pnpm", ["install", "--frozen-lockfile", "--offline"])) {
    log("the pnpm store lacks a package of that release; installing with --prefer-offline");
    if (!run(dir, "pnpm", ["install", "--frozen-lockfile", "--prefer-offline"]))
      throw new Error(`pnpm install failed in ${dir}`);
  }
  log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  started = Date.now();
  for (const name of internalWorkersOf(dir)) {
    if (!run(join(dir, "workers", name), "pnpm", ["--silent", "build"]))
      throw new Error(`building ${name} of ${base.ref} failed`);
  }
  log(`built its internal workers in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  writeFileSync(ready, `${base.commit}\n`);
  return dir;
}

const HOOK = "INTERNAL_WORKERS_FROM";

/**
 * Makes the checkout's gateway tests take their internal workers from `INTERNAL_WORKERS_FROM`. A
 * release from before that hook (v0.5.0) gets this tree's worker-options.mjs, which reads the
 * same manifest API; returns whether it had to.
 */
export function ensureHook(dir: string): boolean {
  const committed = execFileSync("git", ["show", "HEAD:infra/mesh/worker-options.mjs"], { cwd: dir, encoding: "utf8" });
  if (committed.includes(HOOK)) return false;
  copyFileSync(join(repoRoot, "infra/mesh/worker-options.mjs"), join(dir, "infra/mesh/worker-options.mjs"));
  return true;
}
