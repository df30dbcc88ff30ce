import { describe, expect, it } from "vitest";
import type { DocumentRecord, IngestJob, Page, SearchAnswer } from "@crispy/contracts";
import { bearer, call, createKey, expectError, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const json = (key: string) => bearer(key, { "content-type": "application/json" });
const jsonHeaders = json;
/** A word no other test uses, so each test's documents and queries stay apart in a tenant's index. */
const unique = () => `zq${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;

async function ingestText(key: string, body: Record<string, unknown>): Promise<IngestJob> {
  const response = await call("/v1/documents?wait=true", {
    method: "POST",
    headers: json(key),
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const job = await response.json<IngestJob>();
  expect(job.state).toBe("done");
  return job;
}

async function searchFor(key: string, body: Record<string, unknown>): Promise<SearchAnswer> {
  const response = await call("/v1/search", { method: "POST", headers: json(key), body: JSON.stringify(body) });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<SearchAnswer>();
}

describe("ingest and search", () => {
  it("ingests a document and answers from it with citations that map to the sources", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    const word = unique();
    const job = await ingestText(key, {
      title: "Lighthouse keeping",
      url: "https://docs.acme.example/lighthouses",
      text: `# Lighthouses\n\nThe ${word} lighthouse at Cape Ashford was first lit in 1852. Its lamp burned whale oil until 1878.\n\n## Keepers\n\nThree keepers worked in shifts of eight hours to keep the ${word} light burning through the night.`,
      metadata: { team: "history" },
    });
    expect(job.chunksTotal).toBeGreaterThan(0);
    expect(job.chunksDone).toBe(job.chunksTotal);

    const answer = await searchFor(key, { query: `When was the ${word} lighthouse first lit?` });
    expect(answer.found).toBe(true);
    expect(answer.sources.length).toBeGreaterThan(0);
    expect(answer.sources[0]).toMatchObject({
      docId: job.docId,
      title: "Lighthouse keeping",
      url: "https://docs.acme.example/lighthouses",
    });
    const cited = [...answer.answer.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(cited.length).toBeGreaterThan(0);
    for (const n of cited) expect(answer.sources.some((s) => s.n === n)).toBe(true);
  });

  it("says so instead of guessing when nothing relevant is indexed", async () => {
    const { key } = await createKey("acme", ["search"]);
    const answer = await searchFor(key, { query: `${unique()} ${unique()}` });
    expect(answer.found).toBe(false);
    expect(answer.sources).toEqual([]);
  });

  it("caches answers per index version: a new document invalidates the cache", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    const word = unique();
    await ingestText(key, { title: "Cache one", text: `The ${word} project ships on Tuesdays.` });
    const first = await searchFor(key, { query: `When does ${word} ship?` });
    const second = await searchFor(key, { query: `  when does ${word.toUpperCase()} SHIP? ` });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    await ingestText(key, { title: "Cache two", text: `The ${word} project was renamed in May.` });
    expect((await searchFor(key, { query: `When does ${word} ship?` })).cached).toBe(false);
  });

  it("accepts a multipart upload, lists and deletes the document", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    const word = unique();
    const form = new FormData();
    form.append(
      "file",
      new File([`# Notes\n\nThe ${word} valve must be checked weekly.`], "notes.md", { type: "text/markdown" }),
    );
    form.append("title", "Maintenance notes");
    form.append("metadata", JSON.stringify({ plant: "north" }));
    const response = await call("/v1/documents?wait=true", { method: "POST", headers: bearer(key), body: form });
    expect(response.status, await response.clone().text()).toBe(200);
    const job = await response.json<IngestJob>();

    const doc = await (await call(`/v1/documents/${job.docId}`, { headers: bearer(key) })).json<DocumentRecord>();
    expect(doc).toMatchObject({ id: job.docId, title: "Maintenance notes", metadata: { plant: "north" } });
    const list = await (await call("/v1/documents?limit=100", { headers: bearer(key) })).json<Page<DocumentRecord>>();
    expect(list.items.some((d) => d.id === job.docId)).toBe(true);
    expect((await searchFor(key, { query: `${word} valve`, filter: { plant: "north" } })).found).toBe(true);

    expect((await call(`/v1/documents/${job.docId}`, { method: "DELETE", headers: bearer(key) })).status).toBe(200);
    await expectError(await call(`/v1/documents/${job.docId}`, { headers: bearer(key) }), 404, "not_found");
    expect((await searchFor(key, { query: `${word} valve` })).found).toBe(false);
  });
});

describe("RAG chat", () => {
  it("retrieves from the tenant's documents, sends the sources first and cites them", async () => {
    const { key } = await createKey("acme", ["ingest", "chat", "search"]);
    const word = unique();
    const job = await ingestText(key, {
      title: "Ferry timetable",
      text: `The ${word} ferry leaves the harbour at 07:15 every weekday.\n\nIt returns at 18:40.`,
    });
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ message: `When does the ${word} ferry leave?`, rag: true }),
    });
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("sources");
    expect(names.at(-1)).toBe("done");
    const { sources } = JSON.parse(events[0]!.data) as {
      sources: Array<{ n: number; docId: string; chunkId: string; snippet: string }>;
    };
    expect(sources[0]).toMatchObject({ n: 1, docId: job.docId });
    // The same source as search shows it: same chunk, title, url and snippet (whitespace collapsed).
    const searched = await searchFor(key, { query: `When does the ${word} ferry leave?` });
    const same = searched.sources.find((s) => s.chunkId === sources[0]!.chunkId)!;
    expect(sources[0]!.snippet).toBe(
      `The ${word} ferry leaves the harbour at 07:15 every weekday. It returns at 18:40.`,
    );
    expect(sources[0]).toMatchObject({ docId: same.docId, title: same.title, url: same.url, snippet: same.snippet });
    const answer = events
      .filter((e) => e.event === "token")
      .map((e) => (JSON.parse(e.data) as { token: string }).token)
      .join("");
    for (const match of answer.matchAll(/\[(\d+)\]/g)) expect(sources.some((s) => s.n === Number(match[1]))).toBe(true);
    expect(answer).toContain("[1]");
  });
});

describe("tenant isolation of documents", () => {
  it("never lets another tenant read, search, delete or track a tenant's documents", async () => {
    const { key: acme } = await createKey("acme", ["ingest", "search"]);
    const { key: globex } = await createKey("globex", ["ingest", "search"]);
    const word = unique();
    const job = await ingestText(acme, {
      id: `secret-${word}`,
      title: "Acme secret",
      text: `The ${word} formula is kept in the vault.`,
    });

    await expectError(await call(`/v1/documents/${job.docId}`, { headers: bearer(globex) }), 404, "not_found");
    await expectError(
      await call(`/v1/documents/${job.docId}`, { method: "DELETE", headers: bearer(globex) }),
      404,
      "not_found",
    );
    await expectError(await call(`/v1/ingest/jobs/${job.id}`, { headers: bearer(globex) }), 404, "not_found");
    const theirs = await (await call("/v1/documents?limit=100", { headers: bearer(globex) })).json<
      Page<DocumentRecord>
    >();
    expect(theirs.items.some((d) => d.id === job.docId)).toBe(false);
    for (const body of [{ query: `${word} formula` }, { query: `${word} formula`, filter: { docId: job.docId } }]) {
      const answer = await searchFor(globex, body);
      expect(answer.found).toBe(false);
      expect(JSON.stringify(answer)).not.toContain("vault");
    }
    // The owner still sees it: the refusals above were isolation, not breakage.
    expect((await call(`/v1/documents/${job.docId}`, { headers: bearer(acme) })).status).toBe(200);
  });
});

describe("retrieval input limits", () => {
  it("rejects bad search and ingest input with clear 4xx errors", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    const topK = await expectError(
      await call("/v1/search", { method: "POST", headers: json(key), body: JSON.stringify({ query: "x", topK: 51 }) }),
      400,
      "validation_failed",
    );
    expect(topK.message).toMatch(/^topK: /);
    await expectError(
      await call("/v1/search", { method: "POST", headers: json(key), body: JSON.stringify({ query: "   " }) }),
      400,
      "validation_failed",
    );
    await expectError(
      await call("/v1/documents", { method: "POST", headers: json(key), body: JSON.stringify({ title: "no text" }) }),
      400,
      "validation_failed",
    );
    const format = await expectError(
      await call("/v1/documents", {
        method: "POST",
        headers: json(key),
        body: JSON.stringify({ text: "x", format: "pdf" }),
      }),
      400,
      "validation_failed",
    );
    expect(format.message).toMatch(/^format: /);
    await expectError(
      await call("/v1/documents", {
        method: "POST",
        headers: json(key),
        body: JSON.stringify({ text: "x".repeat(11 * 1024 * 1024) }),
      }),
      413,
      "payload_too_large",
    );
    const form = new FormData();
    form.append("file", new File([new Uint8Array([0, 1, 2, 3])], "tool.exe", { type: "application/x-msdownload" }));
    await expectError(
      await call("/v1/documents", { method: "POST", headers: bearer(key), body: form }),
      415,
      "unsupported_media_type",
    );
  });

  it("needs the ingest and search scopes", async () => {
    const { key } = await createKey("acme", ["chat"]);
    await expectError(
      await call("/v1/search", { method: "POST", headers: json(key), body: JSON.stringify({ query: "x" }) }),
      403,
      "forbidden",
    );
    await expectError(
      await call("/v1/documents", { method: "POST", headers: json(key), body: JSON.stringify({ text: "x" }) }),
      403,
      "forbidden",
    );
  });
});

describe("what a document may be called, link to and carry", () => {
  const ids = ["a", "a.b", "x:y", "A-Z_09", "...", ".hidden", "trailing.", "a..b", "v1.2:3-4_5", "z".repeat(96)];

  it("reads and deletes a document by any accepted id, raw or percent-encoded", async () => {
    const { key } = await createKey(registerTenant().id, ["ingest", "search"]);
    const encode = (id: string) => id.replace(/[.:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    for (const id of ids) {
      await ingestText(key, { id, text: `Document ${id} of ${unique()}.` });
      const raw = await call(`/v1/documents/${id}`, { headers: bearer(key) });
      expect(raw.status, id).toBe(200);
      expect((await raw.json<DocumentRecord>()).id).toBe(id);
      expect((await call(`/v1/documents/${encode(id)}`, { headers: bearer(key) })).status, id).toBe(200);
      const deleted = await call(`/v1/documents/${encode(id)}`, { method: "DELETE", headers: bearer(key) });
      expect(deleted.status, id).toBe(200);
      expect((await call(`/v1/documents/${id}`, { headers: bearer(key) })).status, id).toBe(404);
    }
  });

  it("refuses ids a URL path cannot carry ('.' and '..'), in JSON and in uploads", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    for (const id of [".", ".."]) {
      const json = await call("/v1/documents", {
        method: "POST",
        headers: jsonHeaders(key),
        body: JSON.stringify({ id, text: "x" }),
      });
      expect((await expectError(json, 400, "validation_failed")).message).toMatch(/^id: /);
      const form = new FormData();
      form.set("file", new File(["x"], "x.txt", { type: "text/plain" }));
      form.set("id", id);
      const upload = await call("/v1/documents", { method: "POST", headers: bearer(key), body: form });
      expect((await expectError(upload, 400, "validation_failed")).message).toMatch(/^id: /);
    }
    const listed = await (await call("/v1/documents?limit=100", { headers: bearer(key) })).json<Page<DocumentRecord>>();
    expect(listed.items.some((d) => d.id === "." || d.id === "..")).toBe(false);
  });

  it("accepts only http(s) links, which citations show and a widget renders", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    for (const url of [
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
      "ftp://example.com/a",
      "//example.com/a",
    ]) {
      const json = await call("/v1/documents", {
        method: "POST",
        headers: jsonHeaders(key),
        body: JSON.stringify({ text: "x", url }),
      });
      expect((await expectError(json, 400, "validation_failed")).message, url).toMatch(/^url: /);
      const form = new FormData();
      form.set("file", new File(["x"], "x.txt", { type: "text/plain" }));
      form.set("url", url);
      const upload = await call("/v1/documents", { method: "POST", headers: bearer(key), body: form });
      expect((await expectError(upload, 400, "validation_failed")).message, url).toMatch(/^url: /);
    }
    const ok = await ingestText(key, { text: `Linked ${unique()}.`, url: "https://docs.example.com/page?q=1#top" });
    const record = await (await call(`/v1/documents/${ok.docId}`, { headers: bearer(key) })).json<DocumentRecord>();
    expect(record.url).toBe("https://docs.example.com/page?q=1#top");
  });

  it("refuses metadata keys that name Object.prototype's machinery, and nothing is polluted", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    for (const name of ["__proto__", "constructor", "prototype"]) {
      const body = `{"text":"x","metadata":{"${name}":{"polluted":true}}}`;
      const json = await call("/v1/documents", { method: "POST", headers: jsonHeaders(key), body });
      expect((await expectError(json, 400, "validation_failed")).message).toContain("reserved");
      const form = new FormData();
      form.set("file", new File(["x"], "x.txt", { type: "text/plain" }));
      form.set("metadata", `{"${name}":"x"}`);
      await expectError(
        await call("/v1/documents", { method: "POST", headers: bearer(key), body: form }),
        400,
        "validation_failed",
      );
      const search = await call("/v1/search", {
        method: "POST",
        headers: jsonHeaders(key),
        body: `{"query":"x","filter":{"${name}":"x"}}`,
      });
      await expectError(search, 400, "validation_failed");
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});
