/**
 * Which release the compatibility test checks against, in throwaway git repositories: the newest
 * `v*` tag behind HEAD (HEAD's own only while the tree has changes), COMPAT_BASE when set, none in
 * a fresh repository, and a refusal in a shallow clone.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findBase } from "./base";

function repo(): { dir: string; git: (...args: string[]) => string; commit: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), "compat-base-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.test", ...args], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  git("init", "-q", "-b", "main");
  const commit = (name: string) => {
    writeFileSync(join(dir, "file.txt"), name);
    git("add", "file.txt");
    git("commit", "-q", "-m", name);
    return git("rev-parse", "HEAD");
  };
  return { dir, git, commit };
}

describe("the previous release", () => {
  it("is none in a repository without release tags", () => {
    const { dir, commit } = repo();
    commit("one");
    expect(findBase({}, dir)).toBeNull();
  });

  it("is the newest v* tag behind HEAD, by version, ignoring tags off HEAD's history", () => {
    const { dir, git, commit } = repo();
    const first = commit("one");
    git("tag", "-a", "v0.9.0", "-m", "0.9");
    const second = commit("two");
    git("tag", "v0.10.0");
    git("tag", "not-a-release");
    git("checkout", "-q", "-b", "side");
    commit("side");
    git("tag", "v9.0.0");
    git("checkout", "-q", "main");
    commit("three");
    expect(findBase({}, dir)).toMatchObject({ ref: "v0.10.0", commit: second });
    git("tag", "-d", "v0.10.0");
    expect(findBase({}, dir)).toMatchObject({ ref: "v0.9.0", commit: first });
  });

  it("when HEAD is tagged, is the tag before — or HEAD's own while the tree has changes", () => {
    const { dir, git, commit } = repo();
    const first = commit("one");
    git("tag", "v1.0.0");
    const second = commit("two");
    git("tag", "v1.1.0");
    expect(findBase({}, dir)).toMatchObject({ ref: "v1.0.0", commit: first });
    writeFileSync(join(dir, "file.txt"), "edited");
    expect(findBase({}, dir)).toMatchObject({ ref: "v1.1.0", commit: second });
  });

  it("is none when the only tag is HEAD's and the tree is clean", () => {
    const { dir, git, commit } = repo();
    commit("one");
    git("tag", "v1.0.0");
    expect(findBase({}, dir)).toBeNull();
  });

  it("is COMPAT_BASE when set, and an unknown ref is an error", () => {
    const { dir, commit } = repo();
    const first = commit("one");
    commit("two");
    expect(findBase({ COMPAT_BASE: "HEAD~1" }, dir)).toMatchObject({ ref: "HEAD~1", commit: first });
    expect(() => findBase({ COMPAT_BASE: "v404" }, dir)).toThrow();
  });

  it("is refused in a shallow clone, whose tags may be missing", () => {
    const { dir, git, commit } = repo();
    commit("one");
    git("tag", "v1.0.0");
    commit("two");
    const shallow = mkdtempSync(join(tmpdir(), "compat-shallow-"));
    execFileSync("git", ["clone", "-q", "--depth=1", `file://${dir}`, shallow], { stdio: "ignore" });
    expect(() => findBase({}, shallow)).toThrow(/shallow clone/);
  });
});
