import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantsById } from "@crispy/tenants";
import type { TenantContext } from "@crispy/contracts";

function context(tenantId: string): TenantContext {
  return { tenantId, requestId: crypto.randomUUID(), traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", scopes: [], config: tenantsById[tenantId]! };
}

describe("tools RPC", () => {
  it("answers ping with the tenant and request it was given", async () => {
    const acme = context("acme");
    const globex = context("globex");
    const [a, g] = await Promise.all([exports.default.ping(acme), exports.default.ping(globex)]);
    expect(a).toEqual({ ok: true, value: { worker: "tools", tenantId: "acme", requestId: acme.requestId } });
    expect(g.ok && g.value.tenantId).toBe("globex");
  });
});
