/**
 * `GET /widget.js`: the chat widget as the gateway serves it — JavaScript, cacheable and
 * revalidated by ETag, embeddable anywhere, small — and what its source must never do with text
 * from the model (docs/widget.md). Its behaviour in a browser is checked in a real Chromium by
 * CI's smoke run (infra/ci/widget-check.ts).
 */
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

/** The widget's budget, gzipped. */
const MAX_GZIPPED_BYTES = 10 * 1024;

async function gzippedSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

describe("GET /widget.js", () => {
  it("serves the widget as JavaScript anyone may embed, with an ETag", async () => {
    const response = await call("/widget.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("cache-control")).toMatch(/^public, max-age=\d+/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const etag = response.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const source = await response.text();
    expect(source).toContain("customElements.define(TAG, CrispyChat)");
    expect(source).toContain('const TAG = "crispy-chat"');

    const again = await call("/widget.js", { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    const changed = await call("/widget.js", { headers: { "if-none-match": '"something-else"' } });
    expect(changed.status).toBe(200);
  });

  it(`is small: at most ${MAX_GZIPPED_BYTES / 1024} KiB gzipped`, async () => {
    const source = await (await call("/widget.js")).text();
    const gzipped = await gzippedSize(source);
    console.log(`widget.js: ${source.length} bytes, ${gzipped} gzipped`);
    expect(gzipped).toBeLessThanOrEqual(MAX_GZIPPED_BYTES);
  });

  it("never parses text as HTML nor runs text as code", async () => {
    const source = await (await call("/widget.js")).text();
    for (const sink of [
      "innerHTML",
      "outerHTML",
      "insertAdjacentHTML",
      "document.write",
      "eval(",
      "new Function",
      "srcdoc",
    ]) {
      expect(source.includes(sink), sink).toBe(false);
    }
    // Links only ever get an href that safeUrl let through.
    expect([...source.matchAll(/\.href\s*=/g)].length).toBe(1);
  });
});
