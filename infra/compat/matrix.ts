/**
 * The compatibility matrix (matrix.json, docs/rpc-versioning.md): which gateway test files the
 * compatibility run takes, and which tests need an RPC method or version the other release's
 * workers may lack. A test is left out of a run only while the other side's contract() lacks
 * what it needs — never by a skip in the test — and every entry is checked: it must name a test
 * of the suite and something the current workers really have, and after the run every test that
 * did not run must be one an entry left out.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Contract } from "./rules";

/** What the compatibility suite must cover between them (issue 14). */
export const AREAS = ["chat", "search", "ingest", "tools", "mcp", "usage"] as const;

/** A test (a whole file, or the tests whose full name contains `test`) that needs `needs`. */
export interface Requirement {
  file: string;
  test?: string;
  /** `worker.method` (a method the other side must answer) or `worker@N` (its RPC version ≥ N). */
  needs: string;
  /** Why the test needs it, in a sentence. */
  why: string;
}

export interface Matrix {
  $comment?: string;
  suite: Record<string, string[]>;
  requires: Requirement[];
}

export interface Need {
  worker: string;
  method?: string;
  version?: number;
}

export interface RunPlan {
  files: string[];
  /** Requirements the other side does not meet, so their tests stay out of this run. */
  excluded: Array<Requirement & { reason: string }>;
  /** A vitest `-t` pattern that leaves out the excluded single tests (none: run every test). */
  testNamePattern?: string;
}

export function readMatrix(path: string): Matrix {
  return JSON.parse(readFileSync(path, "utf8")) as Matrix;
}

/** `chat.stream` → a method; `chat@2` → a version; anything else → null. */
export function parseNeed(text: string): Need | null {
  const method = /^([a-z][a-z0-9-]*)\.([A-Za-z_$][\w$]*)$/.exec(text);
  if (method) return { worker: method[1]!, method: method[2]! };
  const version = /^([a-z][a-z0-9-]*)@([1-9]\d*)$/.exec(text);
  if (version) return { worker: version[1]!, version: Number(version[2]) };
  return null;
}

/** Why `contracts` do not meet `need` (null: they do). */
export function unmet(need: Need, contracts: readonly Contract[]): string | null {
  const contract = contracts.find((candidate) => candidate.worker === need.worker);
  if (!contract) return `there is no ${need.worker} worker`;
  if (need.method && !contract.methods.includes(need.method))
    return `${need.worker} v${contract.version} has no method ${need.method}`;
  if (need.version && contract.version < need.version)
    return `${need.worker} is at version ${contract.version}, below ${need.version}`;
  return null;
}

/**
 * Problems with a matrix as such (empty: usable): files that exist under `gatewayDir`, coverage
 * of every area, and requirements that name a suite file, parse, say why, and — given the
 * current contracts — ask for something the current workers have.
 */
export function matrixProblems(matrix: Matrix, gatewayDir: string, current?: readonly Contract[]): string[] {
  const problems: string[] = [];
  const files = Object.keys(matrix.suite ?? {});
  if (files.length === 0) problems.push("the suite lists no test files");
  for (const file of files)
    if (!existsSync(join(gatewayDir, file))) problems.push(`suite: ${file} is not a gateway test file`);
  const covered = new Set(Object.values(matrix.suite ?? {}).flat());
  for (const area of AREAS) if (!covered.has(area)) problems.push(`suite: nothing covers ${area}`);
  for (const [i, requirement] of (matrix.requires ?? []).entries()) {
    const label = `requires[${i}] (${requirement.file}${requirement.test ? ` › ${requirement.test}` : ""})`;
    if (!files.includes(requirement.file)) problems.push(`${label}: the file is not in the suite`);
    if (requirement.test !== undefined && requirement.test.trim() === "") problems.push(`${label}: empty test name`);
    if (typeof requirement.why !== "string" || requirement.why.trim().length < 10)
      problems.push(`${label}: say why the test needs ${requirement.needs}`);
    const need = parseNeed(requirement.needs);
    if (!need) {
      problems.push(`${label}: needs "${requirement.needs}" is neither worker.method nor worker@version`);
      continue;
    }
    const missing = current ? unmet(need, current) : null;
    if (missing) problems.push(`${label}: the current workers do not have ${requirement.needs} either (${missing})`);
  }
  return problems;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The files and `-t` pattern for a run against workers answering `callees`. */
export function planRun(matrix: Matrix, callees: readonly Contract[]): RunPlan {
  const excluded: RunPlan["excluded"] = [];
  for (const requirement of matrix.requires ?? []) {
    const need = parseNeed(requirement.needs);
    const reason = need ? unmet(need, callees) : `unreadable need "${requirement.needs}"`;
    if (reason) excluded.push({ ...requirement, reason });
  }
  const wholeFiles = new Set(excluded.filter((entry) => entry.test === undefined).map((entry) => entry.file));
  const names = excluded.filter((entry) => entry.test !== undefined && !wholeFiles.has(entry.file));
  return {
    files: Object.keys(matrix.suite).filter((file) => !wholeFiles.has(file)),
    excluded,
    ...(names.length
      ? { testNamePattern: `^(?!.*(?:${names.map((entry) => escapeRegExp(entry.test!)).join("|")})).*$` }
      : {}),
  };
}

/** The part of vitest's JSON report (`--reporter=json`) the checks read. */
export interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{
    name: string;
    assertionResults: Array<{ fullName: string; status: string }>;
  }>;
}

/**
 * Problems a finished run shows: a test that did not run although no excluded requirement of its
 * file names it (a skip, a todo — compatibility is not made green by skipping), and an excluded
 * single-test requirement that matched no test (a stale or misspelt name).
 */
export function reportProblems(report: VitestReport, plan: RunPlan, gatewayDir: string): string[] {
  const problems: string[] = [];
  const fileOf = (name: string) => name.slice(gatewayDir.length).replace(/^\/+/, "");
  const singles = plan.excluded.filter((entry) => entry.test !== undefined);
  const matched = new Set<Requirement>();
  for (const result of report.testResults) {
    const file = fileOf(result.name);
    for (const test of result.assertionResults) {
      if (test.status === "passed" || test.status === "failed") continue;
      const entry = singles.find((candidate) => candidate.file === file && test.fullName.includes(candidate.test!));
      if (entry) matched.add(entry);
      else problems.push(`${file} › ${test.fullName}: ${test.status}, and no matrix entry leaves it out`);
    }
  }
  for (const entry of singles)
    if (!matched.has(entry))
      problems.push(`${entry.file} › ${entry.test}: the matrix names a test that does not exist`);
  return problems;
}
