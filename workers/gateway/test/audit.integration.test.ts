/**
 * The audit log of administrative actions through the gateway (D1 `audit_log`): keys created,
 * changed and revoked by the operator, tools created, replaced and removed and documents deleted
 * by a tenant's admin, each with its actor, time and request id, never a secret; `GET /v1/audit`
 * shows a tenant only its own rows, `GET /admin/audit` needs the operator token; the erasure
 * job's functions delete one tenant's rows and keys and nothing else.
 */
import { env } from "cloudflare:workers";
import type { AuditRecord, CreatedApiKey, Page, Scope } from "@crispy/contracts";
import { describe, expect, inject, it } from "vitest";
import { countTenantKeys, createKey as storeKey, eraseTenantKeys } from "../src/auth/api-keys";
import { auditStatement, countTenantAudit, eraseTenantAudit } from "../src/audit/store";
import { bearer, call, expectError, OPERATOR_TOKEN, registerTenant } from "./helpers";

const port = inject("toolServerPort");

/** Operator calls, each from its own client IP (more of them than the per-IP limit allows in a minute). */
function operatorHeaders(): Record<string, string> {
  const octet = () => Math.floor(Math.random() * 250) + 1;
  return {
    authorization: `Bearer ${OPERATOR_TOKEN}`,
    "content-type": "application/json",
    "cf-connecting-ip": `10.${octet()}.${octet()}.${octet()}`,
  };
}

async function operatorCall(path: string, method = "GET", body?: unknown): Promise<Response> {
  return call(path, {
    method,
    headers: operatorHeaders(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function createKey(tenantId: string, scopes: Scope[], extra: Record<string, unknown> = {}) {
  const response = await operatorCall(`/admin/tenants/${tenantId}/keys`, "POST", { scopes, ...extra });
  expect(response.status, await response.clone().text()).toBe(201);
  return { created: await response.json<CreatedApiKey>(), requestId: response.headers.get("x-request-id")! };
}

async function tenantAudit(key: string, query = ""): Promise<Page<AuditRecord>> {
  const response = await call(`/v1/audit${query}`, { headers: bearer(key) });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<Page<AuditRecord>>();
}

async function operatorAudit(query: string): Promise<Page<AuditRecord>> {
  const response = await operatorCall(`/admin/audit${query}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<Page<AuditRecord>>();
}

const json = (key: string) => bearer(key, { "content-type": "application/json" });

describe("the audit log", () => {
  it("records the operator's key changes with actor, target, request id and time", async () => {
    const tenant = registerTenant();
    const before = Date.now();
    const { created, requestId: createdIn } = await createKey(tenant.id, ["chat"], {
      name: "ci",
      limits: { dailyTokens: 5_000 },
    });
    const patched = await operatorCall(`/admin/tenants/${tenant.id}/keys/${created.id}`, "PATCH", {
      limits: { tokensPerMinute: 9_000 },
    });
    expect(patched.status).toBe(200);
    const revoked = await operatorCall(`/admin/tenants/${tenant.id}/keys/${created.id}`, "DELETE");
    expect(revoked.status).toBe(200);
    // Revoking again changes nothing, and records nothing.
    expect((await operatorCall(`/admin/tenants/${tenant.id}/keys/${created.id}`, "DELETE")).status).toBe(200);

    const { items } = await operatorAudit(`?tenant=${tenant.id}`);
    expect(items.map((row) => row.action)).toEqual(["key.revoked", "key.updated", "key.created"]);
    for (const row of items) {
      expect(row).toMatchObject({ tenantId: tenant.id, actor: "operator", target: created.id });
      expect(Date.parse(row.at)).toBeGreaterThanOrEqual(before - 1_000);
    }
    expect(items[2]!.requestId).toBe(createdIn);
    expect(items[1]!.requestId).toBe(patched.headers.get("x-request-id"));
    expect(items[0]!.requestId).toBe(revoked.headers.get("x-request-id"));
    expect(items[2]!.details).toMatchObject({ name: "ci", scopes: ["chat"], limits: { dailyTokens: 5_000 } });
    expect(items[1]!.details).toMatchObject({
      before: { limits: { dailyTokens: 5_000 } },
      after: { limits: { dailyTokens: 5_000, tokensPerMinute: 9_000 } },
    });
    expect(JSON.stringify(items)).not.toContain(created.key);
  });

  it("records a tenant admin's tool and document changes, never a tool's secret", async () => {
    const tenant = registerTenant({ features: { tools: true } });
    const { created: admin } = await createKey(tenant.id, ["admin", "ingest", "tools"]);
    const tool = {
      name: "weather",
      description: "Current weather for a city",
      url: `http://127.0.0.1:${port}/weather?api_key=in-the-query`,
      method: "POST",
      headers: { "x-extra": "header-value-secret" },
      auth: { type: "bearer", secret: "s3cret-weather-token" },
    };
    const made = await call("/v1/tools", { method: "POST", headers: json(admin.key), body: JSON.stringify(tool) });
    expect(made.status, await made.clone().text()).toBe(201);
    const replaced = await call("/v1/tools/weather", {
      method: "PUT",
      headers: json(admin.key),
      body: JSON.stringify({ ...tool, description: "Weather, again" }),
    });
    expect(replaced.status).toBe(200);
    const removed = await call("/v1/tools/weather", { method: "DELETE", headers: bearer(admin.key) });
    expect(removed.status).toBe(200);
    // A refused change (no such tool) is not an action: nothing recorded.
    expect((await call("/v1/tools/weather", { method: "DELETE", headers: bearer(admin.key) })).status).toBe(404);

    const ingested = await call("/v1/documents?wait=true", {
      method: "POST",
      headers: json(admin.key),
      body: JSON.stringify({ id: "handbook", text: "The handbook says: lighthouses are tall." }),
    });
    expect(ingested.status, await ingested.clone().text()).toBe(200);
    const deleted = await call("/v1/documents/handbook", { method: "DELETE", headers: bearer(admin.key) });
    expect(deleted.status, await deleted.clone().text()).toBe(200);

    const { items } = await tenantAudit(admin.key);
    const mine = items.filter((row) => row.actor === admin.id);
    expect(mine.map((row) => [row.action, row.target])).toEqual([
      ["document.deleted", "handbook"],
      ["tool.removed", "weather"],
      ["tool.replaced", "weather"],
      ["tool.created", "weather"],
    ]);
    expect(mine[0]!.requestId).toBe(deleted.headers.get("x-request-id"));
    expect(mine[3]!.requestId).toBe(made.headers.get("x-request-id"));
    expect(mine[3]!.details).toMatchObject({
      method: "POST",
      origin: `http://127.0.0.1:${port}`,
      headers: ["x-extra"],
      auth: "bearer",
    });
    const text = JSON.stringify(items);
    for (const secret of ["s3cret-weather-token", "header-value-secret", "in-the-query", "lighthouses are tall"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("shows a tenant's admin only its own rows; another tenant's admin never sees them", async () => {
    const a = registerTenant();
    const b = registerTenant();
    const { created: adminA } = await createKey(a.id, ["admin"]);
    const { created: adminB } = await createKey(b.id, ["admin"]);
    await createKey(a.id, ["chat"], { name: "only-in-a" });
    const seenByA = await tenantAudit(adminA.key);
    expect(seenByA.items.length).toBe(2);
    expect(seenByA.items.every((row) => row.tenantId === a.id)).toBe(true);
    const seenByB = await tenantAudit(adminB.key);
    expect(seenByB.items.every((row) => row.tenantId === b.id)).toBe(true);
    expect(JSON.stringify(seenByB)).not.toContain("only-in-a");
    await expectError(
      await call("/v1/audit", { headers: bearer(adminB.key, { "x-tenant-id": a.id }) }),
      403,
      "forbidden",
    );
    // A cursor from A's listing, replayed by B, still pages over B's rows only.
    const pageOfA = await tenantAudit(adminA.key, "?limit=1");
    expect(pageOfA.nextCursor).not.toBeNull();
    const replayed = await tenantAudit(adminB.key, `?cursor=${pageOfA.nextCursor}`);
    expect(replayed.items.every((row) => row.tenantId === b.id)).toBe(true);
  });

  it("needs the admin scope, and for the operator's listing the operator token", async () => {
    const tenant = registerTenant();
    const { created: chat } = await createKey(tenant.id, ["chat"]);
    const { created: admin } = await createKey(tenant.id, ["admin"]);
    await expectError(await call("/v1/audit", { headers: bearer(chat.key) }), 403, "forbidden");
    await expectError(await call("/admin/audit"), 401, "unauthorized");
    await expectError(await call("/admin/audit", { headers: bearer(admin.key) }), 401, "unauthorized");
    await expectError(
      await call("/admin/audit", { headers: { authorization: "Bearer wrong", "cf-connecting-ip": "10.9.9.9" } }),
      401,
      "unauthorized",
    );
  });

  it("pages newest first by cursor, filters by action, and refuses foreign cursors and bad queries", async () => {
    const tenant = registerTenant();
    const { created: admin } = await createKey(tenant.id, ["admin"]);
    for (let i = 0; i < 4; i++) await createKey(tenant.id, ["chat"], { name: `k${i}` });
    const first = await tenantAudit(admin.key, "?limit=2");
    expect(first.items.map((row) => row.details.name)).toEqual(["k3", "k2"]);
    const second = await tenantAudit(admin.key, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((row) => row.details.name)).toEqual(["k1", "k0"]);
    const third = await tenantAudit(admin.key, `?limit=2&cursor=${second.nextCursor}`);
    expect(third.items).toHaveLength(1);
    expect(third.nextCursor).toBeNull();
    expect((await tenantAudit(admin.key, "?action=key.revoked")).items).toEqual([]);
    expect((await tenantAudit(admin.key, "?action=key.created")).items).toHaveLength(5);

    const error = await expectError(
      await call("/v1/audit?cursor=aGlzdG9yeTo1", { headers: bearer(admin.key) }),
      400,
      "validation_failed",
    );
    expect(error.message).toContain("cursor");
    await expectError(
      await call("/v1/audit?action=everything", { headers: bearer(admin.key) }),
      400,
      "validation_failed",
    );
    await expectError(await call("/v1/audit?limit=0", { headers: bearer(admin.key) }), 400, "validation_failed");
    // The operator sees this tenant's rows among every tenant's.
    const all = await operatorAudit("?limit=200");
    expect(all.items.some((row) => row.tenantId === tenant.id)).toBe(true);
    await expectError(await operatorCall("/admin/audit?tenant=Not_A_Tenant"), 400, "validation_failed");
    await expectError(await operatorCall("/admin/audit?tenant=no-such-tenant"), 404, "tenant_unknown");
  });
});

describe("tenant erasure's audit and key functions", () => {
  it("delete one tenant's keys and audit rows (all but the record of its erasure), nothing of another's", async () => {
    const a = registerTenant();
    const b = registerTenant();
    const db = env.KEYS_DB;
    const keysA = await Promise.all([
      storeKey(db, a.id, { scopes: ["chat"] }),
      storeKey(db, a.id, { scopes: ["admin"] }),
    ]);
    await storeKey(db, b.id, { scopes: ["chat"] });
    const row = (tenantId: string, action: AuditRecord["action"]) =>
      auditStatement(db, { tenantId, actor: "operator", action, target: tenantId, requestId: "req-erase" });
    await db.batch([row(a.id, "key.created"), row(a.id, "document.deleted"), row(b.id, "key.created")]);

    const erasedKeys = await eraseTenantKeys(db, a.id, 1);
    expect(erasedKeys.deleted).toBe(1);
    const rest = await eraseTenantKeys(db, a.id);
    expect(rest.deleted).toBe(1);
    expect([...erasedKeys.keyIds, ...rest.keyIds].sort()).toEqual(keysA.map((key) => key.id).sort());
    expect((await eraseTenantKeys(db, a.id)).deleted).toBe(0);
    expect(await countTenantKeys(db, a.id)).toBe(0);
    expect(await countTenantKeys(db, b.id)).toBe(1);

    expect((await eraseTenantAudit(db, a.id)).deleted).toBe(2);
    await row(a.id, "tenant.erased").run();
    expect((await eraseTenantAudit(db, a.id)).deleted).toBe(0);
    expect(await countTenantAudit(db, a.id)).toBe(0);
    expect(await countTenantAudit(db, b.id)).toBe(1);
    const kept = await operatorAudit(`?tenant=${a.id}`);
    expect(kept.items.map((item) => item.action)).toEqual(["tenant.erased"]);

    // A deleted key no longer authenticates (nothing of it is cached here: it was never used).
    const used = await call("/v1/tenant", { headers: bearer(keysA[0]!.key) });
    expect(used.status).toBe(401);
  });
});
