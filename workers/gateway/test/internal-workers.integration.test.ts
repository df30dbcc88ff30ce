/**
 * The contract every internal worker of the manifest keeps (its base, InternalEntrypoint): `ping`
 * echoes the tenant and request it was given, a malformed tenant context is a `bad_request`
 * value (never an exception), and there are no HTTP routes. Runs against each worker as built for
 * deploy, through the gateway's own service bindings — a worker added to infra/mesh/workers.json is
 * covered without editing this file.
 */
import { env } from "cloudflare:workers";
import type { ErrorCode, RpcResult, TenantContext } from "@crispy/contracts";
import { tenantsById } from "@crispy/tenants";
import { contextFor, testConfig } from "@crispy/testing";
import type { PingReply, RpcContract } from "@crispy/worker-kit";
import { describe, expect, it } from "vitest";
import { INTERNAL_WORKERS } from "../src/mesh";

interface InternalService {
  ping(tenant: unknown): Promise<RpcResult<PingReply>>;
  contract(): Promise<RpcContract>;
  fetch(request: Request): Promise<Response>;
}

/** Arguments a caller with a bug might send in any position. */
const HOSTILE: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1.5,
  Number.NaN,
  "",
  "x".repeat(100_000),
  [],
  {},
  true,
  { length: -1, toString: 1 },
];

const bound = env as unknown as Record<string, InternalService | undefined>;

describe.each(INTERNAL_WORKERS)("internal worker $name", ({ name, binding }) => {
  const service = (): InternalService => {
    const stub = bound[binding];
    if (!stub) throw new Error(`the gateway has no ${binding} binding`);
    return stub;
  };

  it("answers ping with the tenant and request it was given", async () => {
    const acme: TenantContext = contextFor(tenantsById.acme!);
    const globex: TenantContext = contextFor(tenantsById.globex!);
    const [a, g] = await Promise.all([service().ping(acme), service().ping(globex)]);
    expect(a).toEqual({ ok: true, value: { worker: name, tenantId: "acme", requestId: acme.requestId } });
    expect(g).toEqual({ ok: true, value: { worker: name, tenantId: "globex", requestId: globex.requestId } });
  });

  it("answers a malformed tenant context with bad_request, not an exception", async () => {
    const acme = contextFor(tenantsById.acme!);
    for (const hostile of [
      null,
      undefined,
      42,
      "acme",
      {},
      { ...acme, tenantId: 7 },
      { ...acme, config: null },
      { ...acme, tenantId: "globex" },
    ]) {
      const result = await service().ping(hostile);
      expect(result.ok, JSON.stringify(hostile)).toBe(false);
      if (!result.ok) expect(result.error.code).toBe<ErrorCode>("bad_request");
    }
  });

  it("answers hostile arguments to every RPC method with a value, never an exception", async () => {
    const { worker, methods } = await service().contract();
    expect(worker).toBe(name);
    const stub = service() as unknown as Record<string, (...args: unknown[]) => Promise<RpcResult<unknown>>>;
    const tenant = contextFor(testConfig());
    const problems: string[] = [];
    for (const method of methods) {
      const noTenant = await stub[method]!(null, null, null);
      expect(noTenant, `${name}.${method}(null)`).toMatchObject({ ok: false, error: { code: "bad_request" } });
      for (let position = 1; position <= 3; position++) {
        for (const value of HOSTILE) {
          const args: unknown[] = [tenant, undefined, undefined, undefined];
          args[position] = value;
          const label = `${name}.${method} with ${JSON.stringify(value)?.slice(0, 20)} at ${position}`;
          const result = await stub[method]!(...args);
          // A value the method checked: never an exception the guard had to catch ("internal").
          if (typeof result?.ok !== "boolean") problems.push(`${label}: not an RpcResult`);
          else if (!result.ok && result.error.code === "internal") problems.push(`${label}: ${result.error.message}`);
          if (result.ok && result.value && typeof result.value === "object" && "body" in result.value) {
            await (result.value as { body: ReadableStream }).body.cancel();
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("has no HTTP routes: fetch answers 404 in the platform's error shape", async () => {
    const response = await service().fetch(new Request("https://internal.test/anything", { method: "POST" }));
    expect(response.status).toBe(404);
    const body = await response.json<RpcResult<never>>();
    expect(body).toEqual({
      ok: false,
      error: { code: "not_found", message: `crispy-${name} has no HTTP routes; use RPC` },
    });
  });
});
