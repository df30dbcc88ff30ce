/**
 * The per-worker build lock of infra/mesh/worker-options.mjs (a `dist.lock` directory in the
 * worker's folder, created atomically; older than two minutes is a crashed holder's): a dry run
 * takes it too, because bundling runs the worker's build command (the gateway writes its public/
 * assets) while turbo may be running that worker's tests, which build it the same way.
 */
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const STALE_MS = 120_000;
const GIVE_UP_MS = 300_000;

export async function withBuildLock<T>(workerDir: string, run: () => Promise<T>): Promise<T> {
  const lock = join(workerDir, "dist.lock");
  for (const started = Date.now(); ; await sleep(100)) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (Date.now() - started > GIVE_UP_MS)
        throw new Error(`waited 5 min for ${lock}; remove it if no build is running`);
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
