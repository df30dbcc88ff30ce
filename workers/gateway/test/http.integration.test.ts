import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handle } from "../src/app";
import { INTERNAL_WORKERS } from "../src/mesh";
import { bearer, call, createKey, expectError, OPERATOR_TOKEN } from "./helpers";

const operatorJson = { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" };

describe("health and request ids", () => {
  it("serves /health without a tenant or key", async () => {
    const response = await call("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("echoes a well-formed x-request-id and replaces a hostile one", async () => {
    const echoed = await call("/health", { headers: { "x-request-id": "client-req-42" } });
    expect(echoed.headers.get("x-request-id")).toBe("client-req-42");
    const replaced = await call("/health", { headers: { "x-request-id": "bad id\twith spaces" } });
    expect(replaced.headers.get("x-request-id")).not.toContain(" ");
  });

  it("passes the caller's trace id on to internal workers", async () => {
    const { key } = await createKey("acme");
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const response = await call("/v1/mesh", {
      headers: bearer(key, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }),
    });
    expect(response.status).toBe(200);
    const body = await response.json<{ ok: boolean; workers: Array<{ name: string; ok: boolean }> }>();
    expect(body.ok).toBe(true);
    expect(body.workers.map((w) => w.name).sort()).toEqual(INTERNAL_WORKERS.map((w) => w.name).sort());
  });
});

describe("configuration", () => {
  it("refuses to serve with a limit that is not a number, naming the variable (never a disabled limit)", async () => {
    const misconfigured = { ...env, MAX_BODY_BYTES: "1 MiB" } as unknown as GatewayEnv;
    const ctx = createExecutionContext();
    const response = await handle(new Request("http://gateway.test/health"), misconfigured, ctx);
    await waitOnExecutionContext(ctx);
    const error = await expectError(response, 500, "internal");
    expect(error.message).toContain("MAX_BODY_BYTES");
    expect(error.message).not.toContain("1 MiB");
  });
});

describe("one error shape", () => {
  it("answers an unknown route with 404 not_found", async () => {
    await expectError(await call("/v1/nothing-here"), 404, "not_found");
  });

  it("answers a wrong method with 405 and an Allow header", async () => {
    const response = await call("/v1/tenant", { method: "POST" });
    const error = await expectError(response, 405, "method_not_allowed");
    expect(response.headers.get("allow")).toBe("GET");
    expect(error.details).toEqual({ allowed: ["GET"] });
  });

  it("answers malformed JSON with 400 invalid_json", async () => {
    const response = await call("/admin/tenants/acme/keys", {
      method: "POST",
      headers: operatorJson,
      body: '{"scopes": [',
    });
    const error = await expectError(response, 400, "invalid_json");
    expect(error.message).toMatch(/not valid JSON/);
  });

  it("answers an invalid body with 400 naming the field", async () => {
    const response = await call("/admin/tenants/acme/keys", {
      method: "POST",
      headers: operatorJson,
      body: JSON.stringify({ scopes: ["root"] }),
    });
    const error = await expectError(response, 400, "validation_failed");
    expect(error.message).toMatch(/^scopes\.0: /);
  });

  it("answers a non-JSON content type with 415", async () => {
    const response = await call("/admin/tenants/acme/keys", {
      method: "POST",
      headers: { ...operatorJson, "content-type": "text/plain" },
      body: "scopes=chat",
    });
    await expectError(response, 415, "unsupported_media_type");
  });

  it("answers an oversized body with 413, with or without content-length", async () => {
    const big = JSON.stringify({ scopes: ["chat"], name: "x".repeat(1_100_000) });
    const declared = await call("/admin/tenants/acme/keys", { method: "POST", headers: operatorJson, body: big });
    const error = await expectError(declared, 413, "payload_too_large");
    expect(error.details).toEqual({ limitBytes: 1_048_576 });

    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 64 * 1024)
          controller.enqueue(bytes.slice(offset, offset + 64 * 1024));
        controller.close();
      },
    });
    const request = new Request("http://gateway.test/admin/tenants/acme/keys", {
      method: "POST",
      headers: operatorJson,
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(request.headers.get("content-length")).toBeNull();
    const { exports } = await import("cloudflare:workers");
    await expectError(await exports.default.fetch(request), 413, "payload_too_large");
  });
});

describe("CORS", () => {
  const preflight = (origin: string, host = "gateway.test") =>
    call("/v1/tenant", {
      method: "OPTIONS",
      headers: {
        origin,
        host,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });

  it("answers a preflight from a listed origin", async () => {
    const response = await preflight("http://localhost:5173");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(response.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(response.headers.get("access-control-allow-headers")).toContain("mcp-protocol-version");
  });

  it("refuses a preflight from an unlisted origin, and one listed only by another tenant's host", async () => {
    await expectError(await preflight("https://evil.example"), 403, "forbidden");
    await expectError(await preflight("https://portal.globex.example", "acme.localhost"), 403, "forbidden");
  });

  it("adds CORS headers for the key's tenant's origins and refuses other origins", async () => {
    const { key } = await createKey("acme");
    const allowed = await call("/v1/tenant", { headers: bearer(key, { origin: "https://app.acme.example" }) });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.acme.example");
    expect(allowed.headers.get("access-control-expose-headers")).toContain("x-request-id");

    const otherTenantsOrigin = await call("/v1/tenant", {
      headers: bearer(key, { origin: "https://portal.globex.example" }),
    });
    await expectError(otherTenantsOrigin, 403, "forbidden");
    expect(otherTenantsOrigin.headers.get("access-control-allow-origin")).toBeNull();
  });
});
