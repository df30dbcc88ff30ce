/**
 * Bundle sizes against budgets (budgets.json). A worker's size is what wrangler uploads: every
 * module `wrangler deploy --dry-run --outdir` writes (not source maps or its README), gzipped
 * together as wrangler measures it — Cloudflare's script size limit is on the compressed upload,
 * and a large bundle also costs startup time on every cold isolate.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export interface BundleSize {
  worker: string;
  rawBytes: number;
  gzipBytes: number;
  modules: number;
}

export interface Budgets {
  /** KiB gzipped, per worker. */
  gzipKiB: Record<string, number>;
}

const NOT_UPLOADED = /(\.map|^README\.md|^bundle-meta\.json)$/;

function modulesIn(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modulesIn(path, `${prefix}${name}/`);
    return NOT_UPLOADED.test(name) ? [] : [`${prefix}${name}`];
  });
}

/** The upload size of the bundle in `outdir` (raw, and gzipped in one stream as wrangler reports it). */
export function measureBundle(worker: string, outdir: string): BundleSize {
  const files = modulesIn(outdir).sort();
  const contents = files.map((file) => readFileSync(join(outdir, file)));
  const all = Buffer.concat(contents);
  return { worker, rawBytes: all.length, gzipBytes: gzipSync(all).length, modules: files.length };
}

export function readBudgets(path: string): Budgets {
  const budgets = JSON.parse(readFileSync(path, "utf8")) as Budgets;
  if (!budgets.gzipKiB || typeof budgets.gzipKiB !== "object") throw new Error(`${path}: no "gzipKiB" budgets`);
  return budgets;
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

/** The size table, and the workers over budget (a worker without a budget is over it). */
export function checkBudgets(sizes: BundleSize[], budgets: Budgets): { lines: string[]; over: string[] } {
  const over: string[] = [];
  const lines = [`${"worker".padEnd(10)} ${"raw KiB".padStart(9)} ${"gzip KiB".padStart(9)} ${"budget".padStart(7)}`];
  for (const size of sizes) {
    const budget = budgets.gzipKiB[size.worker];
    const ok = budget !== undefined && size.gzipBytes <= budget * 1024;
    if (!ok) over.push(size.worker);
    lines.push(
      `${size.worker.padEnd(10)} ${kib(size.rawBytes).padStart(9)} ${kib(size.gzipBytes).padStart(9)} ${(budget === undefined ? "none" : String(budget)).padStart(7)}  ${ok ? "ok" : "OVER BUDGET"}`,
    );
  }
  return { lines, over };
}
