import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantsById } from "@crispy/tenants";
import type { TenantContext } from "@crispy/contracts";
import { contextFor } from "@crispy/testing";

function context(tenantId: string): TenantContext {
  return contextFor(tenantsById[tenantId]!);
}

describe("ingest RPC", () => {
  it("answers ping with the tenant and request it was given", async () => {
    const acme = context("acme");
    const globex = context("globex");
    const [a, g] = await Promise.all([exports.default.ping(acme), exports.default.ping(globex)]);
    expect(a).toEqual({ ok: true, value: { worker: "ingest", tenantId: "acme", requestId: acme.requestId } });
    expect(g.ok && g.value.tenantId).toBe("globex");
  });
});
