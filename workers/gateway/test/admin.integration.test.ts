import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ApiKeySummary } from "@crispy/contracts";
import { call, createKey, expectError, OPERATOR_TOKEN } from "./helpers";

const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };

describe("operator API for keys", () => {
  it("refuses callers without the operator token", async () => {
    await expectError(await call("/admin/tenants/acme/keys"), 401, "unauthorized");
    await expectError(
      await call("/admin/tenants/acme/keys", { headers: { authorization: "Bearer wrong" } }),
      401,
      "unauthorized",
    );
    const { key } = await createKey("acme", ["admin"]);
    await expectError(
      await call("/admin/tenants/acme/keys", { headers: { authorization: `Bearer ${key}` } }),
      401,
      "unauthorized",
    );
  });

  it("answers 404 for keys of an unknown tenant", async () => {
    await expectError(await call("/admin/tenants/initech/keys", { headers: operator }), 404, "tenant_unknown");
  });

  it("shows a new key once and stores only its hash", async () => {
    const created = await createKey("globex", ["chat", "search"], { name: "ci bot", expiresInSeconds: 3600 });
    expect(created.key).toMatch(/^ce_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 11));
    expect(created.scopes).toEqual(["chat", "search"]);
    expect(Date.parse(created.expiresAt!) - Date.parse(created.createdAt)).toBe(3_600_000);

    const row = await env.KEYS_DB.prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(created.id)
      .first<Record<string, unknown>>();
    expect(Object.values(row!)).not.toContain(created.key);
    expect(row!.key_hash).toMatch(/^[0-9a-f]{64}$/);

    const listed = await call("/admin/tenants/globex/keys", { headers: operator });
    const { keys } = await listed.json<{ keys: ApiKeySummary[] }>();
    const mine = keys.find((k) => k.id === created.id)!;
    expect(mine).toMatchObject({ name: "ci bot", tenantId: "globex", revokedAt: null });
    expect(JSON.stringify(keys)).not.toContain(created.key);
  });

  it("lists only the named tenant's keys and revokes only its own", async () => {
    const acmeKey = await createKey("acme");
    const { keys } = await (await call("/admin/tenants/globex/keys", { headers: operator })).json<{
      keys: ApiKeySummary[];
    }>();
    expect(keys.some((k) => k.id === acmeKey.id)).toBe(false);
    await expectError(
      await call(`/admin/tenants/globex/keys/${acmeKey.id}`, { method: "DELETE", headers: operator }),
      404,
      "not_found",
    );
    const revoked = await call(`/admin/tenants/acme/keys/${acmeKey.id}`, { method: "DELETE", headers: operator });
    expect((await revoked.json<ApiKeySummary>()).revokedAt).not.toBeNull();
  });
});
