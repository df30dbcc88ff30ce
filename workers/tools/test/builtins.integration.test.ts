import { RpcTarget, env, exports } from "cloudflare:workers";
import { createLocalProvider } from "@crispy/ai";
import type { SessionSummary, TenantContext, ToolHost } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { callOf, failure, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;

async function run(tenant: TenantContext, name: string, input: unknown = {}, host?: ToolHost) {
  return unwrap(await tools.execute(tenant, callOf(name, input), host));
}

function json<T = Record<string, unknown>>(output: string): T {
  return JSON.parse(output) as T;
}

/** What the chat worker or the gateway lends: a tenant's sessions, as an RpcTarget. */
class FakeSessions extends RpcTarget implements ToolHost {
  readonly asked: number[] = [];

  constructor(readonly sessions: SessionSummary[]) {
    super();
  }

  async listSessions(limit: number): Promise<SessionSummary[]> {
    this.asked.push(limit);
    return this.sessions.slice(0, limit);
  }
}

function session(n: number): SessionSummary {
  return {
    id: `s-${n}`,
    title: `Session ${n}`,
    messageCount: n,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-02T00:00:00.000Z",
  };
}

/** Indexes a one-paragraph document for `tenant` in crispy-rag, as ingest would. */
async function indexDocument(tenant: TenantContext, id: string, title: string, text: string): Promise<void> {
  const { model, dimensions } = tenant.config.ai.embeddings;
  const { vectors } = await createLocalProvider().embed(
    { model, texts: [text], dimensions },
    { tenantId: tenant.tenantId, requestId: tenant.requestId, gatewayId: "test" },
  );
  const contentHash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  const doc = {
    id,
    title,
    source: "test",
    url: `https://docs.example/${id}`,
    metadata: {},
    contentHash,
    version: 1,
    contentType: "text/plain",
    bytes: text.length,
  };
  const chunk = {
    chunkId: `${id}:v1:0`,
    text,
    tokens: Math.ceil(text.length / 4),
    provenance: { docId: id, version: 1, start: 0, end: text.length, headingPath: [title], page: null },
    vector: vectors[0]!,
  };
  unwrap(await env.RAG.upsertDocument(tenant, doc, [chunk]));
}

describe("current_time", () => {
  it("answers the time in UTC by default and in a named zone", async () => {
    const tenant = toolsTenant();
    const before = Math.floor(Date.now() / 1000);
    const utc = json<{ iso: string; unix: number; timezone: string; utcOffset: string }>(
      (await run(tenant, "current_time")).output,
    );
    expect(utc.timezone).toBe("UTC");
    expect(utc.utcOffset).toBe("+00:00");
    expect(utc.unix).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(utc.iso) / 1000).toBe(utc.unix);
    const tokyo = json<{ timezone: string; local: string; utcOffset: string }>(
      (await run(tenant, "current_time", { timezone: "Asia/Tokyo" })).output,
    );
    expect(tokyo).toMatchObject({ timezone: "Asia/Tokyo", utcOffset: "+09:00" });
    expect(tokyo.local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$/);
  });

  it("refuses a time zone that does not exist, naming the field", async () => {
    const error = failure(await tools.execute(toolsTenant(), callOf("current_time", { timezone: "Mars/Olympus" })));
    expect(error).toMatchObject({ code: "validation_failed", details: { field: "timezone" } });
    expect(error.message).toContain("input.timezone");
    expect(error.message).toContain("IANA");
  });
});

describe("file tools", () => {
  it("writes, reads and lists a tenant's files, and another tenant sees none of them", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    const written = json((await run(a, "file_write", { path: "notes/todo.md", content: "buy milk ✓" })).output);
    expect(written).toMatchObject({ path: "notes/todo.md", bytes: 12, created: true });
    unwrap(await tools.execute(a, callOf("file_write", { path: "top.txt", content: "top" })));
    expect(json((await run(a, "file_write", { path: "top.txt", content: "again" })).output)).toMatchObject({
      created: false,
    });

    expect(json((await run(a, "file_read", { path: "notes/todo.md" })).output)).toMatchObject({
      path: "notes/todo.md",
      content: "buy milk ✓",
    });
    const listed = json<{ files: Array<{ path: string }>; truncated: boolean }>((await run(a, "file_list")).output);
    expect(listed.files.map((f) => f.path)).toEqual(["notes/todo.md", "top.txt"]);
    const notes = json<{ files: Array<{ path: string }> }>((await run(a, "file_list", { prefix: "notes/" })).output);
    expect(notes.files.map((f) => f.path)).toEqual(["notes/todo.md"]);

    // Stored under the tenant's own prefix.
    const keys = (await env.TOOL_FILES.list({ prefix: `tenants/${a.tenantId}/files/` })).objects.map((o) => o.key);
    expect(keys).toEqual([`tenants/${a.tenantId}/files/notes/todo.md`, `tenants/${a.tenantId}/files/top.txt`]);

    // Tenant B: nothing to read or list, and no path reaches A's prefix.
    const missing = await run(b, "file_read", { path: "notes/todo.md" });
    expect(missing).toMatchObject({ status: "error", output: 'file_read: file "notes/todo.md" does not exist' });
    expect(json<{ files: unknown[] }>((await run(b, "file_list")).output).files).toEqual([]);
    for (const path of [
      `../${a.tenantId}/files/notes/todo.md`,
      `../../tenants/${a.tenantId}/files/top.txt`,
      "/top.txt",
    ]) {
      expect(failure(await tools.execute(b, callOf("file_read", { path }))), path).toMatchObject({
        code: "validation_failed",
        details: { field: "path" },
      });
    }
    expect(failure(await tools.execute(b, callOf("file_list", { prefix: "../" }))).details).toEqual({
      field: "prefix",
    });
    // B writing the same path makes B's own file; A's is untouched.
    await run(b, "file_write", { path: "notes/todo.md", content: "B's list" });
    expect(json((await run(a, "file_read", { path: "notes/todo.md" })).output).content).toBe("buy milk ✓");
  });

  it("keeps to the tenant's file size and file count limits", async () => {
    const tenant = toolsTenant({ config: { tools: { fileMaxBytes: 10, maxFiles: 2 } } });
    const big = await run(tenant, "file_write", { path: "big.txt", content: "x".repeat(11) });
    expect(big.status).toBe("error");
    expect(big.output).toContain("at most 10 bytes (tools.fileMaxBytes)");
    await run(tenant, "file_write", { path: "one.txt", content: "1" });
    await run(tenant, "file_write", { path: "two.txt", content: "2" });
    const third = await run(tenant, "file_write", { path: "three.txt", content: "3" });
    expect(third.status).toBe("error");
    expect(third.output).toContain("tools.maxFiles");
    expect((await run(tenant, "file_write", { path: "two.txt", content: "2b" })).status).toBe("ok");
    expect(json<{ files: unknown[] }>((await run(tenant, "file_list")).output).files).toHaveLength(2);
  });
});

describe("search_documents", () => {
  it("returns the tenant's passages from rag with what a citation needs, and nothing of another tenant's", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    await indexDocument(
      a,
      "handbook",
      "Warehouse handbook",
      "Parcels leave the Rotterdam warehouse every Tuesday at noon.",
    );
    const found = await run(a, "search_documents", { query: "When do parcels leave the Rotterdam warehouse?" });
    expect(found.status).toBe("ok");
    const answer = json<{ found: boolean; results: Array<Record<string, unknown>> }>(found.output);
    expect(answer.found).toBe(true);
    expect(answer.results[0]).toMatchObject({
      n: 1,
      title: "Warehouse handbook",
      documentId: "handbook",
      chunkId: "handbook:v1:0",
      url: "https://docs.example/handbook",
      text: expect.stringContaining("every Tuesday"),
    });
    expect(typeof answer.results[0]!.score).toBe("number");

    const other = json<{ found: boolean; results: unknown[] }>(
      (await run(b, "search_documents", { query: "When do parcels leave the Rotterdam warehouse?" })).output,
    );
    expect(other).toMatchObject({ found: false, results: [] });
  });
});

describe("sessions_list", () => {
  it("reads sessions through the host the caller lends", async () => {
    const tenant = toolsTenant();
    const host = new FakeSessions([session(1), session(2), session(3)]);
    const listed = json<{ sessions: SessionSummary[] }>(
      (await run(tenant, "sessions_list", { limit: 2 }, host)).output,
    );
    expect(listed.sessions.map((s) => s.id)).toEqual(["s-1", "s-2"]);
    expect(json<{ sessions: unknown[] }>((await run(tenant, "sessions_list", {}, host)).output).sessions).toHaveLength(
      3,
    );
    expect(host.asked).toEqual([2, 20]);
    expect(failure(await tools.execute(tenant, callOf("sessions_list", { limit: 101 }), host))).toMatchObject({
      code: "validation_failed",
      details: { field: "limit" },
    });
  });

  it("fails clearly when the caller lent no host", async () => {
    const run1 = await run(toolsTenant(), "sessions_list");
    expect(run1.status).toBe("error");
    expect(run1.output).toContain("sessions_list is unavailable from this caller");
  });

  it("reports a host that fails as the tool's error", async () => {
    class Broken extends RpcTarget implements ToolHost {
      async listSessions(): Promise<SessionSummary[]> {
        throw new Error("session directory unavailable");
      }
    }
    const result = await run(toolsTenant(), "sessions_list", {}, new Broken());
    expect(result).toMatchObject({ status: "error" });
    expect(result.output).toContain("session directory unavailable");
  });
});
