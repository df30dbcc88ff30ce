/**
 * Tenant erasure end to end (docs/erasure.md): `DELETE /admin/tenants/:id/data` against the real
 * mesh. A tenant with sessions, documents, ingest jobs, cached answers, HTTP tools, files, tool
 * audit, usage, audit rows and keys is erased; afterwards no RPC of any worker finds anything of
 * it, every worker's own count (their storage listings: R2 and KV by prefix, D1 rows, Durable
 * Object rows) is 0, its keys are gone from D1 — and another tenant's data is untouched. DELETE is
 * idempotent, and a job whose step fails resumes and completes.
 *
 * Each erasure waits out the key cache (KEY_CACHE_TTL_MS, 10 s here) before erasing the workers.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import {
  type ChatTurnReply,
  type ErasureJob,
  type IngestJob,
  type Page,
  type SearchAnswer,
  type StoreCounts,
  type TenantConfig,
  type TenantContext,
  erasureContext,
} from "@crispy/contracts";
import { contextFor } from "@crispy/testing";
import type { ErasingWorker } from "../src/erasure/steps";
import { bearer, call, createKey, eventually, expectError, OPERATOR_TOKEN, registerTenant } from "./helpers";

const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
const SCOPES = ["chat", "search", "ingest", "tools", "admin"] as const;
const QUESTION = "When was the lighthouse at Cape Ashford first lit?";

async function post(path: string, key: string, body: unknown): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: bearer(key, { "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
}

async function ok<T>(response: Promise<Response>, status = 200): Promise<T> {
  const answered = await response;
  expect(answered.status, await answered.clone().text()).toBe(status);
  return answered.json<T>();
}

interface Footprint {
  config: TenantConfig;
  key: string;
  keyIds: string[];
  sessions: string[];
  jobs: IngestJob[];
  answer: SearchAnswer;
}

/** Gives a tenant something in every store: sessions, documents and jobs, a cached answer, tools, files, usage, audit, keys. */
async function populate(config: TenantConfig): Promise<Footprint> {
  const { key, id } = await createKey(config.id, [...SCOPES]);
  const second = await createKey(config.id, ["chat"], { name: "second key" });
  const sessions: string[] = [];
  for (const message of ["Tell me about lighthouses", "And about keepers"]) {
    sessions.push((await ok<ChatTurnReply>(post("/v1/chat", key, { message, stream: false }))).sessionId);
  }
  const jobs: IngestJob[] = [];
  for (const [id, text] of [
    ["lighthouse", "The lighthouse at Cape Ashford was first lit in 1852. Its lamp burned whale oil."],
    ["keepers", "Three keepers worked in shifts of eight hours to keep the light burning."],
  ]) {
    jobs.push(await ok<IngestJob>(post("/v1/documents?wait=true", key, { id, text })));
  }
  const answer = await ok<SearchAnswer>(post("/v1/search", key, { query: QUESTION }));
  expect(answer.found).toBe(true);
  const weather = {
    name: "weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    url: `http://127.0.0.1:${inject("toolServerPort")}/weather`,
    method: "POST",
  };
  await ok(post("/v1/tools", key, weather), 201);
  await ok(post("/v1/tools/weather/execute", key, { input: { city: "Oslo" } }));
  await ok(post("/v1/tools/file_write/execute", key, { input: { path: "notes/today.txt", content: "remember" } }));
  return { config, key, keyIds: [id, second.id], sessions, jobs, answer };
}

/** An API request's view of the tenant (every scope), for reading through the workers' RPCs. */
function reader(config: TenantConfig): TenantContext {
  return contextFor(config, [...SCOPES]);
}

const WORKERS = ["chat", "ingest", "rag", "tools", "ratelimit"] as const;

/** Every worker's own count of what it holds for the tenant (its storage, by prefix and by row; `keyIds`: whose limiters). */
async function counts(config: TenantConfig, keyIds: string[] = []): Promise<Record<string, StoreCounts>> {
  const bindings: Record<(typeof WORKERS)[number], ErasingWorker> = {
    chat: env.CHAT,
    ingest: env.INGEST,
    rag: env.RAG,
    tools: env.TOOLS,
    ratelimit: env.RATELIMIT,
  };
  const out: Record<string, StoreCounts> = {};
  for (const worker of WORKERS) {
    const result = await bindings[worker].eraseTenant(
      erasureContext(config, crypto.randomUUID(), reader(config).traceparent),
      { mode: "count", ...(worker === "ratelimit" && keyIds.length > 0 ? { keyIds } : {}) },
    );
    if (!result.ok) throw new Error(`${worker} count failed: ${result.error.message}`);
    out[worker] = result.value.counts;
  }
  return out;
}

async function keyRows(tenantId: string): Promise<number> {
  return (await env.KEYS_DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE tenant_id = ?")
    .bind(tenantId)
    .first<{ n: number }>())!.n;
}

async function erase(tenantId: string, query = ""): Promise<Response> {
  return call(`/admin/tenants/${tenantId}/data${query}`, { method: "DELETE", headers: operator });
}

async function job(tenantId: string): Promise<ErasureJob> {
  return ok<ErasureJob>(call(`/admin/tenants/${tenantId}/data`, { headers: operator }));
}

/** The job as its object reports it (polling through the operator API would spend its rate limit). */
async function jobOf(tenantId: string): Promise<ErasureJob | null> {
  return env.TENANT_ERASURE.getByName(tenantId).status();
}

async function finished(tenantId: string, ms = 60_000): Promise<ErasureJob> {
  let last: ErasureJob | null = null;
  await eventually(async () => {
    last = await jobOf(tenantId);
    expect(["done", "failed"]).toContain(last?.state);
  }, ms);
  return job(tenantId);
}

/** The tenant's data is all still there, as its own key sees it. */
async function expectIntact(tenant: Footprint): Promise<void> {
  const sessions = await ok<Page<{ id: string }>>(call("/v1/sessions", { headers: bearer(tenant.key) }));
  expect(sessions.items.map((s) => s.id).sort()).toEqual([...tenant.sessions].sort());
  const docs = await ok<Page<{ id: string }>>(call("/v1/documents", { headers: bearer(tenant.key) }));
  expect(docs.items.map((d) => d.id).sort()).toEqual(["keepers", "lighthouse"]);
  expect(await ok<SearchAnswer>(post("/v1/search", tenant.key, { query: QUESTION }))).toEqual({
    ...tenant.answer,
    cached: true,
  });
  const tools = await ok<{ tools: Array<{ name: string }> }>(call("/v1/tools", { headers: bearer(tenant.key) }));
  expect(tools.tools.map((t) => t.name)).toContain("weather");
  const file = await ok<{ status: string; output: unknown }>(
    post("/v1/tools/file_read/execute", tenant.key, { input: { path: "notes/today.txt" } }),
  );
  expect(JSON.stringify(file.output)).toContain("remember");
  for (const found of [...tenant.jobs]) {
    expect((await ok<IngestJob>(call(`/v1/ingest/jobs/${found.id}`, { headers: bearer(tenant.key) }))).state).toBe(
      "done",
    );
  }
  const left = await counts(tenant.config, tenant.keyIds);
  expect(left.chat!.sessions).toBe(2);
  expect(left.rag).toMatchObject({ documents: 2 });
  expect(left.rag!.cacheEntries).toBeGreaterThanOrEqual(1);
  expect(left.ingest).toMatchObject({ jobs: 2, files: 2 });
  expect(left.tools).toMatchObject({ http_tools: 1, files: 1 });
  expect(await keyRows(tenant.config.id)).toBe(2);
}

describe("DELETE /admin/tenants/:id/data", () => {
  it("erases everything the tenant has in every worker, verifies it, and leaves another tenant untouched", async () => {
    const a = await populate(registerTenant({ features: { tools: true } }));
    const b = await populate(registerTenant({ features: { tools: true } }));
    const before = await counts(a.config, a.keyIds);
    expect(before.ratelimit!.ledgerRows).toBeGreaterThan(0);
    expect(before.ratelimit!.rateLimiters).toBeGreaterThanOrEqual(2);

    const started = await erase(a.config.id);
    expect(started.status, await started.clone().text()).toBe(202);
    expect(started.headers.get("location")).toBe(`/admin/tenants/${a.config.id}/data`);
    const first = await started.json<ErasureJob>();
    expect(first).toMatchObject({ tenantId: a.config.id, state: "running", round: 1, finishedAt: null });
    expect(first.requestId).toBe(started.headers.get("x-request-id"));
    // The keys go first: the tenant's own key stops working at once.
    await eventually(async () => {
      await expectError(await call("/v1/tenant", { headers: bearer(a.key) }), 401, "unauthorized");
    });
    // Again while it runs: the same job, not a second one.
    const again = await erase(a.config.id);
    expect(again.status).toBe(202);
    expect(await again.json<ErasureJob>()).toMatchObject({ startedAt: first.startedAt, requestId: first.requestId });
    const running = await job(a.config.id);
    expect(running.steps.map((s) => s.name)).toEqual([
      "keys",
      "drain",
      "chat",
      "ingest",
      "rag",
      "tools",
      "ratelimit",
      "verify",
      "record",
    ]);

    const done = await finished(a.config.id);
    expect(done.state, JSON.stringify(done.lastError)).toBe("done");
    expect(done.steps.every((s) => s.state === "done")).toBe(true);
    expect(done.step).toBeNull();
    expect(done.erased.gateway).toMatchObject({ apiKeys: 2 });
    expect(done.erased.gateway!.auditEntries).toBeGreaterThanOrEqual(3);
    expect(done.erased.chat).toMatchObject({ sessions: 2, messages: 4 });
    expect(done.erased.ingest).toMatchObject({ jobs: 2, files: 2 });
    expect(done.erased.rag).toMatchObject({ documents: 2 });
    expect(done.erased.rag!.cacheEntries).toBeGreaterThanOrEqual(1);
    expect(done.erased.tools).toMatchObject({ http_tools: 1, files: 1 });
    expect(done.erased.tools!.tool_executions).toBeGreaterThanOrEqual(2);
    expect(done.erased.ratelimit!.rateLimiters).toBeGreaterThanOrEqual(2);
    expect(done.erased.ratelimit!.ledgerRows).toBeGreaterThan(0);
    for (const owned of Object.values(done.remaining!)) expect(Object.values(owned).every((n) => n === 0)).toBe(true);

    // Nothing is left in any worker's storage (each counts its own: R2 and KV by prefix, D1 rows,
    // its objects' rows), nor in the key database…
    const after = await counts(a.config, a.keyIds);
    for (const [worker, owned] of Object.entries(after))
      expect(owned, worker).toEqual(Object.fromEntries(Object.keys(owned).map((k) => [k, 0])));
    expect(await keyRows(a.config.id)).toBe(0);

    // …and no RPC finds anything of the tenant (these reads come last: a search caches its answer,
    // a tool call is audited).
    const tenant = reader(a.config);
    const chat = await env.CHAT.listSessions(tenant, { limit: 100 });
    expect(chat.ok && chat.value.items).toEqual([]);
    for (const id of a.sessions)
      expect(await env.CHAT.history(tenant, id, { limit: 10 })).toMatchObject({
        ok: false,
        error: { code: "not_found" },
      });
    const docs = await env.RAG.listDocuments(tenant, { limit: 100 });
    expect(docs.ok && docs.value.items).toEqual([]);
    const search = await env.RAG.search(tenant, { query: QUESTION });
    expect(search.ok && search.value).toMatchObject({ found: false, cached: false, sources: [] });
    for (const found of a.jobs)
      expect(await env.INGEST.job(tenant, found.id)).toMatchObject({ ok: false, error: { code: "not_found" } });
    const tools = await env.TOOLS.list(tenant);
    expect(tools.ok && tools.value.map((t) => t.name)).not.toContain("weather");
    const executions = await env.TOOLS.executions(tenant, { limit: 100 });
    expect(executions.ok && executions.value.items).toEqual([]);
    const file = await env.TOOLS.execute(tenant, {
      name: "file_read",
      inputJson: '{"path":"notes/today.txt"}',
      caller: "api",
    });
    expect(file.ok && file.value.status).toBe("error");
    const usage = await env.RATELIMIT.usage(tenant);
    expect(usage.ok && usage.value.daily).toMatchObject({ used: 0, reserved: 0 });
    // The one record kept: the operator-level `tenant.erased` audit row (ids and counts only).
    const audit = await ok<Page<{ action: string; requestId: string; actor: string }>>(
      call(`/admin/audit?tenant=${a.config.id}`, { headers: operator }),
    );
    expect(audit.items).toEqual([
      expect.objectContaining({ action: "tenant.erased", actor: "operator", requestId: first.requestId }),
    ]);

    await expectIntact(b);

    // DELETE after the end answers the finished job and redoes nothing.
    const repeat = await erase(a.config.id);
    expect(repeat.status).toBe(200);
    expect(await repeat.json<ErasureJob>()).toEqual(done);
    // `again` starts a new job (no keys left, so no drain): it finds nothing and keeps the one record.
    const rerun = await erase(a.config.id, "?again=true");
    expect(rerun.status).toBe(202);
    expect((await rerun.json<ErasureJob>()).requestId).not.toBe(first.requestId);
    const second = await finished(a.config.id);
    expect(second.state).toBe("done");
    expect(second.erased.chat).toEqual({ sessions: 0, messages: 0 });
    const records = await ok<Page<{ action: string }>>(
      call(`/admin/audit?tenant=${a.config.id}`, { headers: operator }),
    );
    expect(records.items.map((r) => r.action)).toEqual(["tenant.erased", "tenant.erased"]);

    // The tenant's config stays: the id works again, and starts empty.
    const { key } = await createKey(a.config.id, ["chat", "search"]);
    expect((await ok<Page<unknown>>(call("/v1/sessions", { headers: bearer(key) }))).items).toEqual([]);
    expect((await ok<SearchAnswer>(post("/v1/search", key, { query: QUESTION }))).found).toBe(false);
  }, 120_000);

  it("resumes a job whose step failed, with backoff, and completes it", async () => {
    const c = await populate(registerTenant({ features: { tools: true } }));
    expect((await erase(c.config.id)).status).toBe(202);
    // The chat worker fails its first erase call (as during a restart); the job's own object runs here.
    await runInDurableObject(env.TENANT_ERASURE.getByName(c.config.id), async (instance) => {
      const target = instance as unknown as { env: GatewayEnv };
      const real = target.env.CHAT;
      let failures = 1;
      target.env = {
        ...target.env,
        CHAT: {
          eraseTenant: async (...args: Parameters<ErasingWorker["eraseTenant"]>) => {
            if (failures-- > 0)
              return { ok: false, error: { code: "upstream_unavailable", message: "chat is restarting" } };
            return real.eraseTenant(...args);
          },
        } as unknown as GatewayEnv["CHAT"],
      };
    });
    await eventually(async () => {
      const seen = await jobOf(c.config.id);
      expect(seen?.lastError).toMatchObject({
        step: "chat",
        code: "upstream_unavailable",
        message: "chat is restarting",
      });
    }, 30_000);
    const done = await finished(c.config.id);
    expect(done.state).toBe("done");
    expect(done.attempts).toBe(0);
    expect(done.erased.chat).toMatchObject({ sessions: 2 });
    expect((await counts(c.config)).chat).toEqual({ sessions: 0 });
  }, 120_000);

  it("needs the operator token and a known tenant, and refuses a bad query", async () => {
    const d = registerTenant();
    await expectError(await call(`/admin/tenants/${d.id}/data`, { method: "DELETE" }), 401, "unauthorized");
    const { key } = await createKey(d.id, ["admin"]);
    await expectError(
      await call(`/admin/tenants/${d.id}/data`, { method: "DELETE", headers: bearer(key) }),
      401,
      "unauthorized",
    );
    await expectError(await erase("initech"), 404, "tenant_unknown");
    await expectError(await call(`/admin/tenants/${d.id}/data`, { headers: operator }), 404, "not_found");
    const bad = await expectError(await erase(d.id, "?again=yes"), 400, "validation_failed");
    expect(bad.message).toContain("again");
    expect(await keyRows(d.id)).toBe(1);
  });
});
