/**
 * A gateway pinned to one tenant (`TENANT_ID`, what `pnpm run deploy --tenant acme` sets on a
 * dedicated mesh's gateway): it serves acme, and every other tenant — named by header, host, API
 * key or an operator route — is unknown to it (404 tenant_unknown). The same requests to the
 * shared (unpinned) gateway in this suite are served, so the refusals come from the pin.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantSummary, UsageReport } from "@crispy/contracts";
import { handle } from "../src/app";
import { bearer, call, createKey, expectError, OPERATOR_TOKEN } from "./helpers";

const pinnedEnv = (tenant: string) => ({ ...env, TENANT_ID: tenant }) as unknown as GatewayEnv;

/** A request to a gateway pinned to acme (the same bindings as the suite's gateway). */
async function callPinned(path: string, init: RequestInit = {}, host = "gateway.test"): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await handle(new Request(`http://${host}${path}`, init), pinnedEnv("acme"), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const operator = { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" };

describe("a gateway pinned to acme (TENANT_ID)", () => {
  it("serves acme: by key alone, and a request naming no tenant is acme's", async () => {
    const { key } = await createKey("acme");
    const response = await callPinned("/v1/tenant", { headers: bearer(key) });
    expect(response.status).toBe(200);
    expect((await response.json<TenantSummary>()).id).toBe("acme");
    const named = await callPinned("/v1/tenant", { headers: bearer(key, { "x-tenant-id": "acme" }) });
    expect(named.status).toBe(200);
    // Nothing names a tenant: on the shared gateway that is 400; here it is acme's, so a key is missing.
    await expectError(await call("/v1/tenant"), 400, "tenant_required");
    await expectError(await callPinned("/v1/tenant"), 401, "unauthorized");
  });

  it("refuses another tenant's key with 404 tenant_unknown (the shared gateway serves it)", async () => {
    const { key } = await createKey("globex");
    expect((await call("/v1/tenant", { headers: bearer(key) })).status).toBe(200);
    const error = await expectError(await callPinned("/v1/tenant", { headers: bearer(key) }), 404, "tenant_unknown");
    expect(error.message).toContain("globex");
    await expectError(await callPinned("/v1/sessions", { headers: bearer(key) }), 404, "tenant_unknown");
  });

  it("refuses another tenant named by header or host, even with acme's key", async () => {
    const { key } = await createKey("acme");
    await expectError(
      await callPinned("/v1/tenant", { headers: bearer(key, { "x-tenant-id": "globex" }) }),
      404,
      "tenant_unknown",
    );
    await expectError(
      await callPinned("/v1/tenant", { headers: bearer(key) }, "globex.localhost"),
      404,
      "tenant_unknown",
    );
    // acme's own host is fine.
    expect((await callPinned("/v1/tenant", { headers: bearer(key) }, "acme.localhost")).status).toBe(200);
  });

  it("operator routes know only acme", async () => {
    const body = JSON.stringify({ scopes: ["chat"] });
    await expectError(
      await callPinned("/admin/tenants/globex/keys", { method: "POST", headers: operator, body }),
      404,
      "tenant_unknown",
    );
    await expectError(await callPinned("/admin/tenants/globex/keys", { headers: operator }), 404, "tenant_unknown");
    await expectError(
      await callPinned("/admin/tenants/globex/data", { method: "DELETE", headers: operator }),
      404,
      "tenant_unknown",
    );
    expect((await call("/admin/tenants/globex/keys", { headers: operator })).status).toBe(200);
    const created = await callPinned("/admin/tenants/acme/keys", { method: "POST", headers: operator, body });
    expect(created.status).toBe(201);

    const today = new Date().toISOString().slice(0, 10);
    const usage = await callPinned(`/admin/usage?from=${today}&to=${today}`, { headers: operator });
    expect(usage.status, await usage.clone().text()).toBe(200);
    const groups = (await usage.json<UsageReport>()).rows.map((row) => row.group);
    expect(groups.every((group) => group === "acme")).toBe(true);
    const shared = await (
      await call(`/admin/usage?from=${today}&to=${today}`, { headers: operator })
    ).json<UsageReport>();
    expect(shared.rows.some((row) => row.group !== "acme")).toBe(true);
  });

  it("holds the pin per request: pinned and shared requests at once each keep their own", async () => {
    const { key } = await createKey("globex");
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? callPinned : call)("/v1/tenant", { headers: bearer(key) }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 404 : 200)));
  });

  it("refuses to serve when TENANT_ID names no tenant, naming the variable", async () => {
    const ctx = createExecutionContext();
    const response = await handle(new Request("http://gateway.test/health"), pinnedEnv("initech"), ctx);
    await waitOnExecutionContext(ctx);
    const error = await expectError(response, 500, "internal");
    expect(error.message).toContain("TENANT_ID");
  });
});
