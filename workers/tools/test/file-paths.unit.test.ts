import { TOOL_LIMITS } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { pathProblem } from "../src/file-store";

describe("file paths", () => {
  it("accepts relative paths with folders", () => {
    for (const path of ["a.txt", "notes/todo.md", "deep/er/still/file", "with space.txt", "ünïcødé/ファイル.txt"]) {
      expect(pathProblem(path), path).toBeNull();
    }
    expect(pathProblem("x".repeat(TOOL_LIMITS.maxPathChars))).toBeNull();
  });

  it("refuses paths that could leave the tenant's folder or confuse a listing", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /empty/],
      ["/etc/passwd", /relative/],
      ["../other-tenant/file", /\.\./],
      ["a/../../b", /\.\./],
      ["a/./b", /\. or \.\./],
      ["..", /\.\./],
      ["a//b", /empty segments/],
      ["a/", /empty segments/],
      ["a\\..\\b", /not \\/],
      ["a\u0000b", /control/],
      ["a\nb", /control/],
      ["x".repeat(TOOL_LIMITS.maxPathChars + 1), /at most/],
    ];
    for (const [path, reason] of cases) expect(pathProblem(path), JSON.stringify(path)).toMatch(reason);
  });

  it("lets a listing prefix be empty or a folder", () => {
    expect(pathProblem("", { prefix: true })).toBeNull();
    expect(pathProblem("notes/", { prefix: true })).toBeNull();
    expect(pathProblem("no", { prefix: true })).toBeNull();
    expect(pathProblem("../", { prefix: true })).toMatch(/\.\./);
    expect(pathProblem("/", { prefix: true })).toMatch(/relative/);
  });
});
