/**
 * Tenant erasure in the rag worker (src/erase.ts) against its real TenantIndex and KV: the index
 * (documents, chunks, FTS, embeddings), the search cache keys and — with the vectorize backend,
 * through the in-memory FakeVectorize (Vectorize cannot run offline) — the tenant's vectors, by id
 * and by a sweep of its namespace. Another tenant's index, cache and vectors stay.
 */
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { type EraseReport, type TenantContext, erasureContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import RagService from "../src/index";
import { vectorId } from "../src/vectors/vectorize";
import { makeDocument } from "./documents";
import { FakeVectorize } from "./fake-vectorize";
import { failure, makeTenant, unwrap } from "./tenant";

type Rag = Pick<RagService, "eraseTenant" | "upsertDocument" | "search" | "listDocuments" | "retrieve">;

function eraser(tenant: TenantContext): TenantContext {
  return erasureContext(tenant.config, `erase-${crypto.randomUUID()}`, tenant.traceparent);
}

async function index(rag: Rag, tenant: TenantContext, docs: number): Promise<void> {
  for (let i = 0; i < docs; i++) {
    const { doc, chunks } = await makeDocument(`doc-${i}`, [
      `Lighthouse ${i} at the cape was first lit in 18${50 + i}.`,
      `Its keepers worked in shifts of eight hours through the night ${i}.`,
    ]);
    unwrap(await rag.upsertDocument(tenant, doc, chunks));
  }
  // Two cached answers.
  unwrap(await rag.search(tenant, { query: "When was the lighthouse first lit?" }));
  unwrap(await rag.search(tenant, { query: "Who kept the light burning?" }));
}

async function cacheKeys(tenantId: string): Promise<string[]> {
  return (await env.SEARCH_CACHE.list({ prefix: `${tenantId}:` })).keys.map((key) => key.name);
}

/** Row counts of every table the tenant's index object holds (FTS shadow tables included). */
async function indexRows(tenant: TenantContext): Promise<Record<string, number>> {
  return runInDurableObject(env.TENANT_INDEX.getByName(tenant.tenantId), async (_instance, state) => {
    const rows: Record<string, number> = {};
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
      .toArray();
    for (const { name } of tables) {
      if (name === "schema_version" || name === "counters" || name === "chunks_fts_config") continue;
      rows[name] = state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n;
    }
    return rows;
  });
}

async function eraseAll(rag: Rag, tenant: TenantContext, batchSize?: number): Promise<EraseReport[]> {
  const calls: EraseReport[] = [];
  for (let call = 0; call < 20 && !calls.at(-1)?.done; call++) {
    calls.push(unwrap(await rag.eraseTenant(eraser(tenant), batchSize ? { batchSize } : undefined)));
  }
  return calls;
}

const total = (calls: EraseReport[], store: string) => calls.reduce((sum, c) => sum + (c.counts[store] ?? 0), 0);

describe("eraseTenant (durable-object vectors)", () => {
  it("erases the index and the cache keys; another tenant keeps its own", async () => {
    const rag = exports.default;
    const tenant = makeTenant();
    const other = makeTenant();
    await index(rag, tenant, 3);
    await index(rag, other, 1);
    expect(await cacheKeys(tenant.tenantId)).toHaveLength(2);
    expect(unwrap(await rag.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: false,
      counts: { documents: 3, chunks: 6, cacheEntries: 2 },
    });

    const calls = await eraseAll(rag, tenant, 1);
    expect(calls.at(-1)!.done).toBe(true);
    expect(total(calls, "documents")).toBe(3);
    expect(total(calls, "chunks")).toBe(6);
    expect(total(calls, "cacheEntries")).toBe(2);
    expect(Math.max(...calls.map((c) => c.counts.cacheEntries!))).toBe(1);

    // Exactly as empty as a never-used tenant's index (whose FTS5 keeps its two structure records).
    const rows = await indexRows(tenant);
    expect(rows).toMatchObject({ documents: 0, chunks: 0, document_metadata: 0, chunks_fts_docsize: 0 });
    expect(rows).toEqual(await indexRows(makeTenant()));
    expect(await cacheKeys(tenant.tenantId)).toEqual([]);
    expect(unwrap(await rag.listDocuments(tenant, { limit: 100 })).items).toEqual([]);
    expect(unwrap(await rag.retrieve(tenant, { query: "lighthouse keepers" }))).toEqual([]);
    const answer = unwrap(await rag.search(tenant, { query: "When was the lighthouse first lit?" }));
    expect(answer).toMatchObject({ found: false, cached: false, sources: [] });
    // That search cached its (empty) answer again; a count sees it.
    expect(unwrap(await rag.eraseTenant(eraser(tenant), { mode: "count" })).counts).toEqual({
      documents: 0,
      chunks: 0,
      cacheEntries: 1,
    });

    expect(unwrap(await rag.listDocuments(other, { limit: 100 })).items.map((d) => d.id)).toEqual(["doc-0"]);
    expect(await cacheKeys(other.tenantId)).toHaveLength(2);
    expect(unwrap(await rag.search(other, { query: "When was the lighthouse first lit?" }))).toMatchObject({
      found: true,
      cached: true,
    });
  });

  it("refuses an API request's context", async () => {
    const tenant = makeTenant();
    await index(exports.default, tenant, 1);
    expect(failure(await exports.default.eraseTenant(tenant)).code).toBe("forbidden");
    expect(unwrap(await exports.default.listDocuments(tenant, { limit: 100 })).items).toHaveLength(1);
  });
});

describe("eraseTenant (vectorize)", () => {
  function vectorRag() {
    const fake = new FakeVectorize();
    const vectorEnv = { ...env, VECTOR_BACKEND: "vectorize", VECTORIZE: fake } as unknown as RagEnv;
    return { fake, rag: new RagService(createExecutionContext(), vectorEnv) };
  }

  it("deletes the tenant's vectors by id, sweeps its namespace, and leaves other namespaces alone", async () => {
    const { fake, rag } = vectorRag();
    const tenant = makeTenant();
    const other = makeTenant();
    await index(rag, tenant, 3);
    await index(rag, other, 2);
    // A vector of a version whose removal failed: no document names it any more.
    const stray = await vectorId(tenant.tenantId, "gone", 1, 0);
    await fake.upsert([
      { id: stray, values: new Array(384).fill(0.1), namespace: tenant.tenantId, metadata: { docId: "gone" } },
    ]);
    expect(fake.inNamespace(tenant.tenantId)).toHaveLength(7);
    expect(unwrap(await rag.eraseTenant(eraser(tenant), { mode: "count" })).counts).toEqual({
      documents: 3,
      chunks: 6,
      vectors: 7,
      cacheEntries: 2,
    });

    const calls = await eraseAll(rag, tenant, 2);
    expect(calls.at(-1)!.done).toBe(true);
    expect(total(calls, "documents")).toBe(3);
    expect(total(calls, "vectors")).toBe(7);
    const deletes = fake.calls.filter((c) => c.op === "deleteByIds");
    expect(deletes.flatMap((c) => (c.op === "deleteByIds" ? c.ids : []))).toContain(stray);
    expect(deletes.every((c) => c.op === "deleteByIds" && c.ids.every((id) => !id.startsWith(other.tenantId)))).toBe(
      true,
    );
    expect(fake.inNamespace(tenant.tenantId)).toEqual([]);
    expect(fake.inNamespace(other.tenantId)).toHaveLength(4);
    expect(unwrap(await rag.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: true,
      counts: { documents: 0, chunks: 0, vectors: 0, cacheEntries: 0 },
    });
  });

  it("counts vectors Vectorize has not deleted yet, so the job's verification waits for them", async () => {
    const { fake, rag } = vectorRag();
    const tenant = makeTenant();
    await index(rag, tenant, 1);
    fake.applyDeletes = false;
    expect((await eraseAll(rag, tenant)).at(-1)!.done).toBe(true);
    expect(unwrap(await rag.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: false,
      counts: { documents: 0, chunks: 0, vectors: 2, cacheEntries: 0 },
    });
    fake.applyDeletes = true;
    expect((await eraseAll(rag, tenant)).at(-1)!.done).toBe(true);
    expect(unwrap(await rag.eraseTenant(eraser(tenant), { mode: "count" })).done).toBe(true);
  });
});
