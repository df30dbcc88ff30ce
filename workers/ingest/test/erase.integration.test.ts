/**
 * Tenant erasure in the ingest worker (src/erase.ts) against its real Durable Objects and R2: every
 * job of the tenant (finished or still retrying) and every raw file under its prefix go, in
 * bounded batches; another tenant's jobs and files stay; only the erasure context may erase.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { type EraseReport, type IngestJob, type TenantContext, erasureContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { FAIL_ALWAYS, failure, makeTenant, unwrap } from "./tenant";

const ingest = exports.default;

function eraser(tenant: TenantContext): TenantContext {
  return erasureContext(tenant.config, `erase-${crypto.randomUUID()}`, tenant.traceparent);
}

async function ingestDocs(tenant: TenantContext, count: number): Promise<IngestJob[]> {
  const jobs: IngestJob[] = [];
  for (let i = 0; i < count; i++) {
    const text = `Document ${i} of ${tenant.tenantId}: parcels ship from the north warehouse on weekdays.`;
    jobs.push(unwrap(await ingest.ingest(tenant, { id: `doc-${i}`, text }, { wait: true })));
  }
  return jobs;
}

async function fileKeys(tenantId: string): Promise<string[]> {
  return (await env.DOCUMENTS.list({ prefix: `${tenantId}/` })).objects.map((object) => object.key);
}

/** What a job's object still holds: its job row and chunk rows, and its alarm. */
async function jobStorage(tenant: TenantContext, jobId: string) {
  const stub = env.INGEST_JOB.getByName(`${tenant.tenantId}:${jobId}`);
  return runInDurableObject(stub, async (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((row) => row.name);
    const count = (table: string) =>
      tables.includes(table) ? state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n : 0;
    return { jobs: count("job"), chunks: count("chunks"), alarm: await state.storage.getAlarm() };
  });
}

async function eraseAll(tenant: TenantContext, batchSize: number): Promise<EraseReport[]> {
  const calls: EraseReport[] = [];
  for (let call = 0; call < 20 && !calls.at(-1)?.done; call++) {
    calls.push(unwrap(await ingest.eraseTenant(eraser(tenant), { batchSize })));
  }
  return calls;
}

describe("eraseTenant", () => {
  it("erases every job and raw file in bounded batches; another tenant keeps its own", async () => {
    const tenant = makeTenant();
    const other = makeTenant();
    const jobs = await ingestDocs(tenant, 3);
    const [kept] = await ingestDocs(other, 1);
    // A job still retrying (its embedding model fails), with its alarm armed and its file stored.
    const retrying = makeTenant({ embeddingsModel: FAIL_ALWAYS }, tenant.tenantId);
    const stuck = unwrap(await ingest.ingest(retrying, { id: "stuck", text: "waiting for a model" }));
    expect(await fileKeys(tenant.tenantId)).toHaveLength(4);
    expect(unwrap(await ingest.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: false,
      counts: { jobs: 4, files: 4 },
    });

    const calls = await eraseAll(tenant, 2);
    expect(calls.at(-1)!.done).toBe(true);
    const total = (store: string) => calls.reduce((sum, c) => sum + c.counts[store]!, 0);
    expect(total("jobs")).toBe(4);
    expect(total("files")).toBe(4);
    expect(Math.max(...calls.map((c) => c.counts.jobs! + c.counts.files!))).toBeLessThanOrEqual(2);

    expect(await fileKeys(tenant.tenantId)).toEqual([]);
    for (const job of [...jobs, stuck]) {
      expect(await jobStorage(tenant, job.id)).toEqual({ jobs: 0, chunks: 0, alarm: null });
      expect(failure(await ingest.job(tenant, job.id)).code).toBe("not_found");
    }
    expect(unwrap(await ingest.eraseTenant(eraser(tenant), { mode: "count" }))).toEqual({
      done: true,
      counts: { jobs: 0, files: 0 },
    });

    expect(unwrap(await ingest.job(other, kept!.id)).state).toBe("done");
    expect(await fileKeys(other.tenantId)).toEqual([`${other.tenantId}/documents/doc-0/v1/source.txt`]);
  });

  it("is idempotent, and the tenant id starts empty when used again", async () => {
    const tenant = makeTenant();
    await ingestDocs(tenant, 1);
    expect((await eraseAll(tenant, 100)).at(-1)!.done).toBe(true);
    expect(unwrap(await ingest.eraseTenant(eraser(tenant)))).toEqual({ done: true, counts: { jobs: 0, files: 0 } });
    // rag still holds doc-0 (each worker erases only its own stores), so the same content is "unchanged".
    const again = unwrap(await ingest.ingest(tenant, { id: "fresh", text: "a new beginning" }, { wait: true }));
    expect(again.state).toBe("done");
    expect(await fileKeys(tenant.tenantId)).toEqual([`${tenant.tenantId}/documents/fresh/v1/source.txt`]);
  });

  it("refuses an API request's context and a malformed request", async () => {
    const tenant = makeTenant();
    await ingestDocs(tenant, 1);
    expect(failure(await ingest.eraseTenant(tenant)).code).toBe("forbidden");
    expect(failure(await ingest.eraseTenant(eraser(tenant), { batchSize: 5_000 })).code).toBe("bad_request");
    expect(await fileKeys(tenant.tenantId)).toHaveLength(1);
  });
});
