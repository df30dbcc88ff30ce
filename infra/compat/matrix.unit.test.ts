/**
 * The compatibility matrix: which tests a run leaves out (only those whose need the other side's
 * contract lacks), and the checks that keep it honest — a skip no entry explains, an entry that
 * names no test or asks for something the current workers lack either.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Matrix, matrixProblems, parseNeed, planRun, reportProblems, type VitestReport } from "./matrix";
import type { Contract } from "./rules";

const chat = (version: number, methods: string[]): Contract => ({ worker: "chat", version, methods, deprecated: [] });
const suite = {
  "test/chat.integration.test.ts": ["chat", "search", "ingest", "tools", "mcp", "usage"],
  "test/widget.integration.test.ts": ["chat"],
};
const matrix: Matrix = {
  suite,
  requires: [
    { file: "test/widget.integration.test.ts", needs: "chat.widgetTurn", why: "the widget's turn is a new method" },
    { file: "test/chat.integration.test.ts", test: "reports cached tokens", needs: "chat@2", why: "chat v2 adds it" },
  ],
};

function gatewayDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "compat-matrix-"));
  mkdirSync(join(dir, "test"));
  for (const file of Object.keys(suite)) writeFileSync(join(dir, file), "");
  return dir;
}

const report = (dir: string, tests: Array<[file: string, fullName: string, status: string]>): VitestReport => ({
  numTotalTests: tests.length,
  numPassedTests: tests.filter(([, , status]) => status === "passed").length,
  numFailedTests: 0,
  testResults: Object.keys(suite).map((file) => ({
    name: join(dir, file),
    assertionResults: tests.filter(([f]) => f === file).map(([, fullName, status]) => ({ fullName, status })),
  })),
});

describe("needs", () => {
  it("are a method or a version", () => {
    expect(parseNeed("chat.widgetTurn")).toEqual({ worker: "chat", method: "widgetTurn" });
    expect(parseNeed("chat@2")).toEqual({ worker: "chat", version: 2 });
    for (const bad of ["chat", "chat.", "chat@0", "Chat.stream", "chat.stream.x"]) expect(parseNeed(bad)).toBeNull();
  });
});

describe("a run's plan", () => {
  it("leaves nothing out against workers that have everything", () => {
    expect(planRun(matrix, [chat(2, ["stream", "widgetTurn"])])).toEqual({ files: Object.keys(suite), excluded: [] });
  });

  it("leaves out only the tests whose need the other side lacks, saying why", () => {
    const plan = planRun(matrix, [chat(1, ["stream"])]);
    expect(plan.files).toEqual(["test/chat.integration.test.ts"]);
    expect(plan.excluded.map((entry) => entry.reason)).toEqual([
      "chat v1 has no method widgetTurn",
      "chat is at version 1, below 2",
    ]);
    const pattern = new RegExp(plan.testNamePattern!);
    expect(pattern.test("usage reports cached tokens per turn")).toBe(false);
    expect(pattern.test("chat streams tokens")).toBe(true);
  });
});

describe("the matrix check", () => {
  it("accepts a well-formed matrix", () => {
    expect(matrixProblems(matrix, gatewayDir(), [chat(2, ["widgetTurn"])])).toEqual([]);
  });

  it("refuses a need the current workers lack too, an unknown file, a missing area and no reason", () => {
    const bad: Matrix = {
      suite: { "test/chat.integration.test.ts": ["chat"], "test/gone.integration.test.ts": ["usage"] },
      requires: [
        { file: "test/chat.integration.test.ts", needs: "chat.widgetTurn", why: "the widget's turn is new" },
        { file: "test/other.integration.test.ts", needs: "chat@x", why: "" },
      ],
    };
    expect(matrixProblems(bad, gatewayDir(), [chat(1, ["stream"])])).toEqual([
      "suite: test/gone.integration.test.ts is not a gateway test file",
      "suite: nothing covers search",
      "suite: nothing covers ingest",
      "suite: nothing covers tools",
      "suite: nothing covers mcp",
      "requires[0] (test/chat.integration.test.ts): the current workers do not have chat.widgetTurn either (chat v1 has no method widgetTurn)",
      "requires[1] (test/other.integration.test.ts): the file is not in the suite",
      "requires[1] (test/other.integration.test.ts): say why the test needs chat@x",
      'requires[1] (test/other.integration.test.ts): needs "chat@x" is neither worker.method nor worker@version',
    ]);
  });
});

describe("a finished run", () => {
  const dir = gatewayDir();
  const plan = planRun(matrix, [chat(1, ["stream"])]);

  it("passes when what did not run is what the matrix left out", () => {
    const tests: Array<[string, string, string]> = [
      ["test/chat.integration.test.ts", "chat streams tokens", "passed"],
      ["test/chat.integration.test.ts", "usage reports cached tokens per turn", "skipped"],
    ];
    expect(reportProblems(report(dir, tests), plan, dir)).toEqual([]);
  });

  it("fails on a skip no entry explains", () => {
    const tests: Array<[string, string, string]> = [
      ["test/chat.integration.test.ts", "usage reports cached tokens per turn", "skipped"],
      ["test/chat.integration.test.ts", "chat streams tokens", "skipped"],
      ["test/chat.integration.test.ts", "chat resumes", "todo"],
    ];
    expect(reportProblems(report(dir, tests), plan, dir)).toEqual([
      "test/chat.integration.test.ts › chat streams tokens: skipped, and no matrix entry leaves it out",
      "test/chat.integration.test.ts › chat resumes: todo, and no matrix entry leaves it out",
    ]);
  });

  it("fails on an entry that names no test", () => {
    const tests: Array<[string, string, string]> = [["test/chat.integration.test.ts", "chat streams tokens", "passed"]];
    expect(reportProblems(report(dir, tests), plan, dir)).toEqual([
      "test/chat.integration.test.ts › reports cached tokens: the matrix names a test that does not exist",
    ]);
  });
});
