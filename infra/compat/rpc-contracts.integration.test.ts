/**
 * The snapshot test: every internal worker's RPC surface, as its deploy bundle answers
 * `contract()` on workerd, is exactly the newest version rpc-contracts.snapshot.json records for
 * it — so a method that disappears, or appears, without a version bump per docs/rpc-versioning.md
 * fails here, naming the method and the fix. And the compatibility matrix is true of this tree.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { INTERNAL_WORKERS, repoRoot } from "../mesh/worker-options.mjs";
import { matrixProblems, readMatrix } from "./matrix";
import { probeContracts } from "./probe";
import { type Contract, historyProblems, snapshotProblems } from "./rules";
import { readSnapshot } from "./snapshot";

let contracts: Contract[] = [];

beforeAll(async () => {
  process.env.WRANGLER_LOG ??= "error";
  contracts = await probeContracts();
});

describe("the RPC contracts snapshot", () => {
  it("has an answer from every internal worker of the manifest", () => {
    expect(contracts.map((contract) => contract.worker).sort()).toEqual([...INTERNAL_WORKERS].sort());
  });

  it.each(INTERNAL_WORKERS)("records %s's surface at its current version", (worker) => {
    const contract = contracts.find((candidate) => candidate.worker === worker)!;
    expect(snapshotProblems(readSnapshot().workers[worker], contract)).toEqual([]);
  });

  it("has a history that keeps the rules and no worker outside the mesh", () => {
    const { workers } = readSnapshot();
    expect(Object.keys(workers).sort()).toEqual([...INTERNAL_WORKERS].sort());
    for (const [worker, entries] of Object.entries(workers)) expect(historyProblems(worker, entries)).toEqual([]);
  });
});

describe("the compatibility matrix", () => {
  it("names gateway test files, covers every area and needs only what the current workers have", () => {
    const matrix = readMatrix(join(repoRoot, "infra/compat/matrix.json"));
    expect(matrixProblems(matrix, join(repoRoot, "workers/gateway"), contracts)).toEqual([]);
  });
});
