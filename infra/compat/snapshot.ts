/**
 * `pnpm rpc:snapshot`: records the internal workers' RPC surfaces, as their bundles answer
 * `contract()`, in rpc-contracts.snapshot.json — appending a worker's entry when its version went
 * up by one, and refusing (exit 1, nothing written) a change the rules forbid: methods changed
 * without a version bump, or a method removed that the version before did not deprecate.
 * `--check` only reports. See docs/rpc-versioning.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "../mesh/manifest.mjs";
import { type Contract, recordContracts, type Snapshot } from "./rules";

export const SNAPSHOT_PATH = fileURLToPath(new URL("./rpc-contracts.snapshot.json", import.meta.url));
const COMMENT =
  "Written by `pnpm rpc:snapshot` (infra/compat/snapshot.ts): every recorded RPC version of each internal worker, " +
  "with its methods. Entries are appended, never edited; the rules are in docs/rpc-versioning.md.";

/** The committed snapshot (empty when there is none yet). */
export function readSnapshot(path: string = SNAPSHOT_PATH): Snapshot {
  if (!existsSync(path)) return { workers: {} };
  return JSON.parse(readFileSync(path, "utf8")) as Snapshot;
}

/** The snapshot file's text, as the repo's formatter (Biome) lays it out. */
export function snapshotText(snapshot: Snapshot): string {
  const json = JSON.stringify({ $comment: COMMENT, workers: snapshot.workers }, null, 2);
  return execFileSync(join(repoRoot, "node_modules/.bin/biome"), ["format", `--stdin-file-path=${SNAPSHOT_PATH}`], {
    cwd: repoRoot,
    input: json,
    encoding: "utf8",
  });
}

async function main(): Promise<void> {
  process.env.WRANGLER_LOG ??= "error";
  const { probeContracts } = await import("./probe");
  const contracts: Contract[] = await probeContracts();
  const before = readSnapshot();
  const { snapshot, problems } = recordContracts(before, contracts);
  if (problems.length > 0) {
    console.error(`rpc:snapshot: not recorded:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(1);
  }
  const text = snapshotText(snapshot);
  const unchanged = existsSync(SNAPSHOT_PATH) && readFileSync(SNAPSHOT_PATH, "utf8") === text;
  if (process.argv.includes("--check")) {
    console.log(unchanged ? "rpc:snapshot: up to date" : "rpc:snapshot: out of date; run `pnpm rpc:snapshot`");
    process.exit(unchanged ? 0 : 1);
  }
  if (!unchanged) writeFileSync(SNAPSHOT_PATH, text);
  for (const contract of contracts)
    console.log(`  ${contract.worker} v${contract.version}: ${contract.methods.length} methods`);
  console.log(unchanged ? "rpc:snapshot: up to date" : `rpc:snapshot: wrote ${SNAPSHOT_PATH}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
