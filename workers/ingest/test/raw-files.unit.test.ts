import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { listRawFiles, rawFileKey, safeFileName, storeNewVersion, type NewRawFile } from "../src/raw-files";

function upload(tenantId: string, fileName: string, text: string): NewRawFile {
  return {
    tenantId,
    docId: "doc",
    fileName,
    contentType: "text/plain",
    contentHash: "h",
    jobId: "job_1",
    bytes: new TextEncoder().encode(text),
  };
}

describe("raw files in R2", () => {
  it("claims the next free version; a taken one is never overwritten", async () => {
    const tenantId = `t-${crypto.randomUUID()}`;
    expect(await storeNewVersion(env.DOCUMENTS, upload(tenantId, "source.txt", "one"), 0)).toEqual({
      key: `${tenantId}/documents/doc/v1/source.txt`,
      version: 1,
    });
    // Same base version (rag still says 0), same file name: v1 is taken, so v2.
    const second = await storeNewVersion(env.DOCUMENTS, upload(tenantId, "source.txt", "two"), 0);
    expect(second!.version).toBe(2);
    expect(await (await env.DOCUMENTS.get(rawFileKey(tenantId, "doc", 1, "source.txt")))!.text()).toBe("one");
    // Above rag's version when R2 has nothing newer.
    expect((await storeNewVersion(env.DOCUMENTS, upload(tenantId, "source.txt", "three"), 7))!.version).toBe(8);
    expect((await listRawFiles(env.DOCUMENTS, tenantId, "doc")).map((f) => f.version)).toEqual([1, 2, 8]);
  });

  it("leaves a version to the earlier upload when another file name raced for it", async () => {
    const tenantId = `t-${crypto.randomUUID()}`;
    // A concurrent ingest stored b.txt as v1 right after this one listed the (then empty) versions
    // ("b.txt" also sorts first, which settles an upload time tie the same way).
    let listings = 0;
    const racing = new Proxy(env.DOCUMENTS, {
      get(target, property) {
        if (property === "list") {
          return async (options: R2ListOptions) => {
            if (listings++ > 0) return target.list(options);
            await target.put(rawFileKey(tenantId, "doc", 1, "b.txt"), "earlier");
            return { objects: [], delimitedPrefixes: [], truncated: false };
          };
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const raced = await storeNewVersion(racing, upload(tenantId, "a.txt", "later"), 0);
    expect(raced).toEqual({ key: rawFileKey(tenantId, "doc", 2, "a.txt"), version: 2 });
    const files = await listRawFiles(env.DOCUMENTS, tenantId, "doc");
    expect(files.map((f) => f.key)).toEqual([rawFileKey(tenantId, "doc", 1, "b.txt"), raced!.key]);
  });

  it("makes file names safe for keys, keeping the kind's extension", () => {
    expect(safeFileName("Quarterly Report (final).PDF", "pdf")).toBe("Quarterly_Report_final_.pdf");
    expect(safeFileName("../../etc/passwd", "text")).toBe("passwd.txt");
    expect(safeFileName("C:\\docs\\Ünïcödé.md", "markdown")).toBe("Unicode.md");
    expect(safeFileName(".hidden", "text")).toBe("hidden.txt");
    expect(safeFileName("", "json")).toBe("source.json");
    expect(safeFileName(undefined, "csv")).toBe("source.csv");
    expect(safeFileName(`${"x".repeat(300)}.html`, "html")).toHaveLength(95);
  });
});
