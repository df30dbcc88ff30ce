/** Bundle sizes against budgets (sizes.ts): what counts as uploaded, and what is over budget. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { checkBudgets, measureBundle } from "../src/sizes";

describe("bundle sizes", () => {
  it("counts every uploaded module (not source maps or wrangler's README), gzipped as one stream", () => {
    const dir = mkdtempSync(join(tmpdir(), "crispy-bundle-"));
    mkdirSync(join(dir, "sub"));
    const main = "export default {};\n".repeat(200);
    const text = "some text module ".repeat(100);
    writeFileSync(join(dir, "index.js"), main);
    writeFileSync(join(dir, "sub", "abc-widget.js"), text);
    writeFileSync(join(dir, "index.js.map"), "x".repeat(100_000));
    writeFileSync(join(dir, "README.md"), "x".repeat(100_000));
    const size = measureBundle("gateway", dir);
    expect(size.modules).toBe(2);
    expect(size.rawBytes).toBe(main.length + text.length);
    expect(size.gzipBytes).toBe(gzipSync(Buffer.from(main + text)).length);
  });

  it("flags a worker over its budget, and one without a budget", () => {
    const sizes = [
      { worker: "gateway", rawBytes: 900 * 1024, gzipBytes: 201 * 1024, modules: 1 },
      { worker: "chat", rawBytes: 500 * 1024, gzipBytes: 100 * 1024, modules: 1 },
      { worker: "newcomer", rawBytes: 1, gzipBytes: 1, modules: 1 },
    ];
    const { lines, over } = checkBudgets(sizes, { gzipKiB: { gateway: 200, chat: 165 } });
    expect(over).toEqual(["gateway", "newcomer"]);
    expect(lines[1]).toMatch(/^gateway\s+900\.0\s+201\.0\s+200\s+OVER BUDGET$/);
    expect(lines[2]).toMatch(/chat .* ok$/);
  });
});
