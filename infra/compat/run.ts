/**
 * `pnpm test:compat` — can this release's workers be deployed one at a time? Against the previous
 * release (base.ts), built in a worktree:
 *
 *   contracts  each side's internal workers, asked over RPC what their surface is (probe.ts):
 *              nothing the previous release answered is gone unless it shipped deprecated, and
 *              the previous release's recorded versions are unchanged (rules.ts)
 *   (a)        this gateway's compatibility suite (matrix.json) against the previous release's
 *              internal workers — a gateway deployed before the workers it calls
 *   (b)        the previous gateway's suite (its matrix, or this one's files where it has none)
 *              against this release's internal workers — workers deployed before the gateway
 *
 * A test that needs a method or version the other side lacks is left out only by a matrix entry
 * whose need the other side's contract() really lacks (matrix.ts); anything else that does not
 * run fails the check. With no previous release (a fresh repository) it says so and passes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../mesh/manifest.mjs";
import { ensureHook, findBase, internalWorkersOf, prepareCheckout } from "./base";
import {
  matrixProblems,
  planRun,
  readMatrix,
  reportProblems,
  type Matrix,
  type RunPlan,
  type VitestReport,
} from "./matrix";
import { type Contract, historyRewritten, releaseProblems } from "./rules";
import { readSnapshot, SNAPSHOT_PATH } from "./snapshot";

const log = (line: string) => console.log(`compat: ${line}`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const bullets = (lines: string[]) => lines.map((line) => `  - ${line}`).join("\n");

function contractLine(contracts: readonly Contract[]): string {
  return contracts.map((c) => `${c.worker} v${c.version} (${c.methods.length})`).join(", ");
}

interface SuiteRun {
  label: string;
  gatewayDir: string;
  plan: RunPlan;
  workersFrom: string;
}

/** Runs one side's gateway tests with the other side's internal workers; returns its problems. */
function runSuite({ label, gatewayDir, plan, workersFrom }: SuiteRun): string[] {
  const started = Date.now();
  for (const entry of plan.excluded)
    log(`${label}: leaving out ${entry.file}${entry.test ? ` › ${entry.test}` : ""}: ${entry.reason} (${entry.why})`);
  const reports = mkdtempSync(join(tmpdir(), "crispy-compat-"));
  const reportPath = join(reports, "report.json");
  // The gateway package's own `test` script (which ends in `vitest run`; pnpm appends these
  // arguments), so whatever that release prepares before its tests (built assets) is prepared.
  const args = [
    "run",
    "test",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${reportPath}`,
    ...(plan.testNamePattern ? ["-t", plan.testNamePattern] : []),
    ...plan.files,
  ];
  const result = spawnSync("pnpm", args, {
    cwd: gatewayDir,
    stdio: "inherit",
    env: { ...process.env, INTERNAL_WORKERS_FROM: workersFrom },
  });
  const problems: string[] = [];
  if (!existsSync(reportPath)) problems.push(`${label}: vitest wrote no report (exit ${result.status})`);
  else {
    const report = JSON.parse(readFileSync(reportPath, "utf8")) as VitestReport;
    problems.push(...reportProblems(report, plan, gatewayDir).map((problem) => `${label}: ${problem}`));
    log(
      `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed of ${report.numTotalTests} ` +
        `in ${plan.files.length} files, ${plan.excluded.length} requirement(s) left out, ${seconds(started)}`,
    );
  }
  if (result.status !== 0) problems.push(`${label}: the suite failed (vitest exit ${result.status}); see above`);
  rmSync(reports, { recursive: true, force: true });
  return problems;
}

async function main(): Promise<void> {
  const started = Date.now();
  const base = findBase();
  if (!base) {
    log("no previous release (no v* tag before HEAD, no COMPAT_BASE): nothing to be compatible with yet; passing");
    return;
  }
  log(`previous release ${base.ref} (${base.commit.slice(0, 12)}, ${base.how})`);
  const previousRoot = prepareCheckout(base, log);
  if (ensureHook(previousRoot))
    log(`${base.ref} predates INTERNAL_WORKERS_FROM: its gateway tests get this tree's infra/mesh/worker-options.mjs`);

  const { probeContracts } = await import("./probe");
  const current = await probeContracts();
  const previous = await probeContracts(previousRoot);
  log(`${base.ref} workers: ${contractLine(previous)}`);
  log(`current workers: ${contractLine(current)}`);
  const problems = releaseProblems(previous, current).map((problem) => `contracts: ${problem}`);
  const previousSnapshot = join(previousRoot, "infra/compat/rpc-contracts.snapshot.json");
  if (existsSync(previousSnapshot))
    problems.push(
      ...historyRewritten(readSnapshot(previousSnapshot), readSnapshot(SNAPSHOT_PATH)).map((p) => `snapshot: ${p}`),
    );

  const gatewayDir = join(repoRoot, "workers/gateway");
  const matrix = readMatrix(join(repoRoot, "infra/compat/matrix.json"));
  problems.push(...matrixProblems(matrix, gatewayDir, current).map((problem) => `matrix: ${problem}`));
  const previousGatewayDir = join(previousRoot, "workers/gateway");
  const previousMatrixPath = join(previousRoot, "infra/compat/matrix.json");
  let previousMatrix: Matrix;
  if (existsSync(previousMatrixPath)) previousMatrix = readMatrix(previousMatrixPath);
  else {
    // A release from before the matrix: its own test files of this release's suite.
    const suite = Object.entries(matrix.suite).filter(([file]) => existsSync(join(previousGatewayDir, file)));
    previousMatrix = { suite: Object.fromEntries(suite), requires: [] };
    log(`${base.ref} has no matrix.json: running its copies of this suite's files (${suite.length})`);
  }

  log(`(a) this gateway × ${base.ref}'s internal workers`);
  problems.push(...runSuite({ label: "(a)", gatewayDir, plan: planRun(matrix, previous), workersFrom: previousRoot }));
  log(`(b) ${base.ref}'s gateway × this release's internal workers`);
  // That checkout takes this tree's bundles as they are: rebuild any a source change made stale.
  const { ensureBuilt } = await import("../mesh/worker-options.mjs");
  for (const name of internalWorkersOf(repoRoot)) ensureBuilt(name);
  problems.push(
    ...runSuite({
      label: "(b)",
      gatewayDir: previousGatewayDir,
      plan: planRun(previousMatrix, current),
      workersFrom: repoRoot,
    }),
  );

  if (problems.length > 0) {
    console.error(`compat: NOT compatible with ${base.ref} (${seconds(started)}):\n${bullets(problems)}`);
    process.exit(1);
  }
  log(`compatible with ${base.ref} both ways (${seconds(started)})`);
}

process.env.WRANGLER_LOG ??= "error";
process.env.WRANGLER_SEND_METRICS ??= "false";
await main();
