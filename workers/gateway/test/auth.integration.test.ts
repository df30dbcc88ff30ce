import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantSummary } from "@crispy/contracts";
import { bearer, call, createKey, expectError } from "./helpers";

describe("tenant resolution", () => {
  it("resolves the tenant from the API key alone", async () => {
    const { key } = await createKey("acme");
    const response = await call("/v1/tenant", { headers: bearer(key) });
    expect(response.status).toBe(200);
    const summary = await response.json<TenantSummary>();
    expect(summary.id).toBe("acme");
    expect(summary.name).toBe("Acme Corporation");
  });

  it("resolves the tenant from x-tenant-id, which must match the key", async () => {
    const { key } = await createKey("globex");
    const ok = await call("/v1/tenant", { headers: bearer(key, { "x-tenant-id": "globex" }) });
    expect(ok.status).toBe(200);
    expect((await ok.json<TenantSummary>()).id).toBe("globex");
  });

  it("resolves the tenant from the Host mapping", async () => {
    const { key } = await createKey("acme");
    const response = await exports_fetch("http://acme.localhost:8787/v1/tenant", bearer(key));
    expect(response.status).toBe(200);
    expect((await response.json<TenantSummary>()).id).toBe("acme");
  });

  it("prefers x-tenant-id over the Host mapping", async () => {
    const { key } = await createKey("globex");
    const response = await exports_fetch("http://acme.localhost/v1/tenant", bearer(key, { "x-tenant-id": "globex" }));
    expect(response.status).toBe(200);
    expect((await response.json<TenantSummary>()).id).toBe("globex");
  });

  it("answers 400 tenant_required when nothing names a tenant", async () => {
    await expectError(await call("/v1/tenant"), 400, "tenant_required");
  });

  it("answers 404 tenant_unknown for an unknown x-tenant-id, even with a valid key", async () => {
    const { key } = await createKey("acme");
    await expectError(
      await call("/v1/tenant", { headers: bearer(key, { "x-tenant-id": "initech" }) }),
      404,
      "tenant_unknown",
    );
    await expectError(await call("/v1/tenant", { headers: { "x-tenant-id": "__proto__" } }), 404, "tenant_unknown");
  });
});

describe("authentication", () => {
  it("answers 401 when a named tenant comes without a key", async () => {
    const error = await expectError(
      await call("/v1/tenant", { headers: { "x-tenant-id": "acme" } }),
      401,
      "unauthorized",
    );
    expect(error.message).toMatch(/API key is required/);
  });

  it("answers 401 for a malformed, unknown or non-Bearer key", async () => {
    await expectError(
      await call("/v1/tenant", { headers: bearer("not-a-key", { "x-tenant-id": "acme" }) }),
      401,
      "unauthorized",
    );
    const forged = `ce_${"A".repeat(43)}`;
    await expectError(await call("/v1/tenant", { headers: bearer(forged) }), 401, "unauthorized");
    await expectError(
      await call("/v1/tenant", { headers: { authorization: "Basic Zm9vOmJhcg==", "x-tenant-id": "acme" } }),
      401,
      "unauthorized",
    );
  });

  it("accepts the key in x-api-key as well as Authorization", async () => {
    const { key } = await createKey("acme");
    const response = await call("/v1/tenant", { headers: { "x-api-key": key } });
    expect(response.status).toBe(200);
  });

  it("answers 403 when the key belongs to another tenant (header and host)", async () => {
    const { key: globexKey } = await createKey("globex");
    const viaHeader = await expectError(
      await call("/v1/tenant", { headers: bearer(globexKey, { "x-tenant-id": "acme" }) }),
      403,
      "forbidden",
    );
    expect(viaHeader.message).toMatch(/does not belong to tenant "acme"/);
    await expectError(await exports_fetch("http://acme.localhost/v1/tenant", bearer(globexKey)), 403, "forbidden");
  });

  it("answers 403 when the key lacks the route's scope", async () => {
    const { key: plain } = await createKey("acme", ["search"]);
    const error = await expectError(await call("/v1/keys", { headers: bearer(plain) }), 403, "forbidden");
    expect(error.message).toBe('API key lacks the "admin" scope');
    const { key: admin, id } = await createKey("acme", ["admin"]);
    const listed = await call("/v1/keys", { headers: bearer(admin) });
    expect(listed.status).toBe(200);
    const { keys } = await listed.json<{ keys: Array<{ id: string; tenantId: string; key?: string }> }>();
    expect(keys.some((k) => k.id === id)).toBe(true);
    expect(keys.every((k) => k.tenantId === "acme" && k.key === undefined)).toBe(true);
  });

  it("stops accepting a key as soon as it is revoked", async () => {
    const created = await createKey("acme");
    expect((await call("/v1/tenant", { headers: bearer(created.key) })).status).toBe(200);
    const revoke = await call(`/admin/tenants/acme/keys/${created.id}`, {
      method: "DELETE",
      headers: { authorization: "Bearer test-operator-token" },
    });
    expect(revoke.status).toBe(200);
    const error = await expectError(await call("/v1/tenant", { headers: bearer(created.key) }), 401, "unauthorized");
    expect(error.message).toBe("API key has been revoked");
  });

  it("rejects an expired key", async () => {
    const { createKey: insertKey } = await import("../src/auth/api-keys");
    const expired = await insertKey(
      env.KEYS_DB,
      "acme",
      { scopes: ["chat"], expiresInSeconds: 60 },
      new Date(Date.now() - 120_000),
    );
    const error = await expectError(await call("/v1/tenant", { headers: bearer(expired.key) }), 401, "unauthorized");
    expect(error.message).toBe("API key has expired");
  });

  it("records when a key was last used", async () => {
    const created = await createKey("globex");
    expect(created.lastUsedAt).toBeNull();
    expect((await call("/v1/tenant", { headers: bearer(created.key) })).status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            await env.KEYS_DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
              .bind(created.id)
              .first<{ last_used_at: string | null }>()
          )?.last_used_at,
      )
      .not.toBeNull();
  });
});

function exports_fetch(url: string, headers: Record<string, string>): Promise<Response> {
  return import("cloudflare:workers").then(({ exports }) => exports.default.fetch(new Request(url, { headers })));
}
