/** Which files `crispy ingest` picks, and the document ids it gives them. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOCUMENT_ID_PATTERN } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { CliError, EXIT } from "../src/errors";
import { collectFiles, documentIdFor } from "../src/files";

describe("documentIdFor", () => {
  it("joins the path's segments with ':' and replaces what an id may not hold", () => {
    expect(documentIdFor("handbook/sub/Refund policy (v2).md")).toBe("handbook:sub:Refund-policy-v2-.md");
    expect(documentIdFor("faq.md", "kb:")).toBe("kb:faq.md");
  });

  it("keeps long paths within 96 characters, distinct, and valid", () => {
    const a = documentIdFor(`${"deep/".repeat(30)}a.md`);
    const b = documentIdFor(`${"deep/".repeat(30)}b.md`);
    expect(a.length).toBeLessThanOrEqual(96);
    expect(a).not.toBe(b);
    for (const id of [a, b, documentIdFor("ünïcödé/名前.md")]) expect(id).toMatch(DOCUMENT_ID_PATTERN);
  });
});

describe("collectFiles", () => {
  it("walks folders for the parsed formats, skipping dotfiles, dot folders and node_modules", () => {
    const root = join(mkdtempSync(join(tmpdir(), "crispy-files-")), "docs");
    for (const dir of ["sub", ".cache", "node_modules/pkg"]) mkdirSync(join(root, dir), { recursive: true });
    for (const file of [
      "a.md",
      "b.TXT",
      "sub/c.pdf",
      "sub/d.tsv",
      ".env",
      ".cache/e.md",
      "node_modules/pkg/f.md",
      "g.exe",
    ])
      writeFileSync(join(root, file), "x");
    const { files, skipped } = collectFiles([root], "/");
    expect(files.map((f) => [f.display, f.documentId, f.contentType])).toEqual([
      ["docs/a.md", "docs:a.md", "text/markdown"],
      ["docs/b.TXT", "docs:b.TXT", "text/plain"],
      ["docs/sub/c.pdf", "docs:sub:c.pdf", "application/pdf"],
      ["docs/sub/d.tsv", "docs:sub:d.tsv", "text/tab-separated-values"],
    ]);
    expect(skipped).toEqual([{ path: join(root, "g.exe"), reason: "unsupported type .exe" }]);
  });

  it("sends a file named explicitly whatever its type, once, and tells colliding ids apart", () => {
    const root = mkdtempSync(join(tmpdir(), "crispy-files-"));
    for (const file of ["notes.xyz", "a b.md", "a-b.md"]) writeFileSync(join(root, file), "x");
    const { files } = collectFiles(["notes.xyz", "notes.xyz", "a b.md", "a-b.md"], root);
    expect(files.map((f) => f.display)).toEqual(["notes.xyz", "a b.md", "a-b.md"]);
    expect(files[0]!.contentType).toBe("application/octet-stream");
    expect(new Set(files.map((f) => f.documentId)).size).toBe(3);
  });

  it("refuses a path that does not exist before anything is uploaded", () => {
    let error: unknown;
    try {
      collectFiles(["missing-folder"], tmpdir());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
    expect((error as CliError).message).toContain("missing-folder: no such file or folder");
  });
});
