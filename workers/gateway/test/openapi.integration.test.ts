/**
 * The OpenAPI document (docs/api.md) against the gateway itself: every router route is in it and
 * every operation in it is a router route; the served /openapi.json is the one the contracts
 * build now (not stale); every example validates against its schema (and a request example
 * against the zod schema the gateway validates with); each operation's documented auth is what
 * the gateway enforces (401 without a key, 403 without the scope, no 401 where it says none);
 * and /docs is an HTML page that loads only same-origin scripts and styles, which are served.
 */
import { env } from "cloudflare:workers";
import type { Scope } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { buildOpenApi, errorStatuses } from "../src/openapi/document";
import { OPERATIONS, type Operation } from "../src/openapi/operations";
import { DOCS_POLICY } from "../src/openapi/serve";
import { router } from "../src/router";
import { bearer, call, createKey, OPERATOR_TOKEN, registerTenant } from "./helpers";
import {
  documentedResponse,
  expectDocumented,
  type MediaType,
  type OpenApiDocument,
  operationAt,
  problemsOf,
  servedDocument,
} from "./openapi-validate";

const METHODS = ["get", "post", "put", "patch", "delete"];
/** This file's own client address, so its operator calls have their own per-IP limit. */
const CLIENT_IP = { "cf-connecting-ip": "203.0.113.13" };

/** The router's routes as `METHOD /path` (itty form), without the catch-all 404/405. */
function routerRoutes(): Array<{ method: string; path: string }> {
  return router.routes
    .map(([method, , , path]) => ({ method, path: path ?? "" }))
    .filter((route) => !(route.method === "ALL" && route.path === "*"));
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

describe("the document covers the router, and only the router", () => {
  it("documents every route of the router", async () => {
    const doc = await servedDocument();
    const missing = routerRoutes().filter(({ method, path }) => {
      const item = doc.paths[openApiPath(path)];
      return method === "ALL" ? !item : !item?.[method.toLowerCase()];
    });
    expect(
      missing.map(({ method, path }) => `${method} ${path}`),
      "router routes missing from the spec: add each to workers/gateway/src/openapi/operations.ts",
    ).toEqual([]);
  });

  it("documents no operation the router does not have", async () => {
    const doc = await servedDocument();
    const routes = routerRoutes();
    const extra: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item).filter((key) => METHODS.includes(key))) {
        const routed = routes.some(
          (route) =>
            openApiPath(route.path) === path && (route.method === "ALL" || route.method === method.toUpperCase()),
        );
        if (!routed) extra.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(extra, "operations in the spec with no router route").toEqual([]);
  });

  it("names each path parameter the path has, and no other", async () => {
    const doc = await servedDocument();
    for (const [path, item] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      for (const operation of Object.values(item)) {
        const declared = operation.parameters.filter((p) => p.in === "path").map((p) => p.name);
        expect(declared, `${operation.operationId}`).toEqual(inPath);
      }
    }
  });

  it("serves the document the contracts build now: openapi 3.1, not stale", async () => {
    const response = await call("/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const doc = await response.json<OpenApiDocument>();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc, "public/openapi.json is stale: run `pnpm --filter @crispy/gateway assets`").toEqual(
      JSON.parse(JSON.stringify(buildOpenApi())),
    );
  });
});

/** Every example of the document: where it is, its value, and the schema it must satisfy. */
function examplesOf(doc: OpenApiDocument): Array<{ where: string; value: unknown; schema: Record<string, unknown> }> {
  const found: Array<{ where: string; value: unknown; schema: Record<string, unknown> }> = [];
  const fromContent = (where: string, content: Record<string, MediaType> | undefined) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      for (const [name, example] of Object.entries(media.examples ?? {})) {
        found.push({ where: `${where} ${type} example "${name}"`, value: example.value, schema: media.schema ?? {} });
      }
    }
  };
  for (const item of Object.values(doc.paths)) {
    for (const operation of Object.values(item)) {
      fromContent(`${operation.operationId} request`, operation.requestBody?.content);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response.$ref) fromContent(`${operation.operationId} ${status}`, response.content);
      }
    }
  }
  for (const [name, response] of Object.entries(doc.components.responses))
    fromContent(`response ${name}`, response.content);
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    for (const [index, value] of ((schema.examples as unknown[] | undefined) ?? []).entries()) {
      found.push({ where: `schema ${name} examples[${index}]`, value, schema });
    }
  }
  return found;
}

describe("examples", () => {
  it("every documented example validates against its schema", async () => {
    const doc = await servedDocument();
    const examples = examplesOf(doc);
    // Every JSON request body and the main responses carry examples: this is not an empty loop.
    expect(examples.length).toBeGreaterThan(40);
    for (const { where, value, schema } of examples) expect(problemsOf(doc, schema, value), where).toEqual([]);
  });

  it("every request example is accepted by the zod schema the gateway validates with", () => {
    let checked = 0;
    for (const operation of OPERATIONS) {
      for (const [name, example] of Object.entries(operation.body?.examples ?? {})) {
        const parsed = operation.body!.schema.safeParse(example.value);
        expect(parsed.success, `${operation.operationId} example "${name}": ${parsed.error?.message}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it("every JSON request body of the document has an example", async () => {
    const doc = await servedDocument();
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        const json = operation.requestBody?.content["application/json"];
        if (json) expect(Object.keys(json.examples ?? {}), operation.operationId).not.toEqual([]);
      }
    }
  });

  it("the check fails for an example the API would refuse (it is not vacuous)", async () => {
    const doc = await servedDocument();
    const chat = operationAt(doc, "POST", "/v1/chat").requestBody!.content["application/json"]!.schema!;
    expect(problemsOf(doc, chat, { message: "hi" })).toEqual([]);
    expect(problemsOf(doc, chat, { message: "" })).not.toEqual([]);
    expect(problemsOf(doc, chat, { message: "hi", temperature: 0.2 })).not.toEqual([]);
    const job = documentedResponse(doc, operationAt(doc, "GET", "/v1/ingest/jobs/:jobId"), 200).content![
      "application/json"
    ]!.schema!;
    expect(problemsOf(doc, job, { id: "job_1", state: "queued" })).not.toEqual([]);
  });
});

/** A request to `operation` with its path filled in and its first body example, if any. */
function requestTo(operation: Operation, tenantId: string, headers: Record<string, string>): [string, RequestInit] {
  const path = operation.path.replace(/:(\w+)/g, (_, name: string) =>
    name === "tenantId" ? tenantId : name === "jobId" ? `job_${"0".repeat(32)}` : "x",
  );
  const example = Object.values(operation.body?.examples ?? {})[0];
  return [
    path,
    {
      method: operation.method.toUpperCase(),
      headers: { ...CLIENT_IP, "x-tenant-id": tenantId, "content-type": "application/json", ...headers },
      ...(example ? { body: JSON.stringify(example.value) } : {}),
    },
  ];
}

describe("documented auth is enforced auth", () => {
  it("an operation needing a key answers 401 without one, and 403 to a key without its scope", async () => {
    const doc = await servedDocument();
    const tenant = registerTenant({ features: { tools: true } });
    const allScopes: Scope[] = ["chat", "search", "ingest", "tools", "admin"];
    const keys = new Map<Scope, string>();
    for (const scope of allScopes) {
      keys.set(
        scope,
        (
          await createKey(
            tenant.id,
            allScopes.filter((other) => other !== scope),
          )
        ).key,
      );
    }
    let checked = 0;
    for (const operation of OPERATIONS.filter((op) => op.auth.kind === "key")) {
      const [path, init] = requestTo(operation, tenant.id, {});
      const anonymous = await call(path, init);
      await expectDocumented(doc, operation.method, operation.path, anonymous.clone());
      expect(anonymous.status, `${operation.operationId} without a key`).toBe(401);
      const scope = operation.auth.kind === "key" ? operation.auth.scope : undefined;
      if (scope) {
        const [, scoped] = requestTo(operation, tenant.id, bearer(keys.get(scope)!));
        const refused = await call(path, scoped);
        await expectDocumented(doc, operation.method, operation.path, refused.clone());
        expect(refused.status, `${operation.operationId} with a key lacking "${scope}"`).toBe(403);
        const security = operationAt(doc, operation.method, operation.path).security;
        expect(security.slice(0, 2)).toEqual([{ ApiKey: [scope] }, { ApiKeyHeader: [scope] }]);
        expect(security.slice(2)).toEqual(
          operation.auth.kind === "key" && operation.auth.visitor ? [{ VisitorToken: [] }] : [],
        );
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it("an operator operation answers 401 without the operator token, and a tenant's key is not one", async () => {
    const doc = await servedDocument();
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["admin"]);
    for (const operation of OPERATIONS.filter((op) => op.auth.kind === "operator")) {
      for (const headers of [{}, bearer(key)]) {
        const [path, init] = requestTo(operation, tenant.id, headers);
        const response = await call(path, init);
        await expectDocumented(doc, operation.method, operation.path, response.clone());
        expect(response.status, operation.operationId).toBe(401);
      }
      expect(operationAt(doc, operation.method, operation.path).security).toEqual([{ OperatorToken: [] }]);
    }
    // And the token is what it takes: the same route with it is not refused.
    const listed = await call(`/admin/tenants/${tenant.id}/keys`, {
      headers: { ...CLIENT_IP, ...bearer(OPERATOR_TOKEN) },
    });
    expect(listed.status).toBe(200);
  });

  it("an operation needing a publishable key answers 401 without one, and 403 to a secret key", async () => {
    const doc = await servedDocument();
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const operations = OPERATIONS.filter((op) => op.auth.kind === "publishable");
    for (const operation of operations) {
      for (const [headers, status] of [
        [{}, 401],
        [bearer(key), 403],
      ] as const) {
        const [path, init] = requestTo(operation, tenant.id, { origin: "https://app.example", ...headers });
        const response = await call(path, init);
        await expectDocumented(doc, operation.method, operation.path, response.clone());
        expect(response.status, operation.operationId).toBe(status);
      }
      expect(operationAt(doc, operation.method, operation.path).security).toEqual([{ PublishableKey: [] }]);
    }
  });

  it("an operation documented without auth needs none", async () => {
    const doc = await servedDocument();
    for (const operation of OPERATIONS.filter((op) => op.auth.kind === "none")) {
      const response = await call(operation.path, { method: operation.method.toUpperCase(), headers: CLIENT_IP });
      await expectDocumented(doc, operation.method, operation.path, response.clone());
      expect([401, 403], operation.operationId).not.toContain(response.status);
      expect(operationAt(doc, operation.method, operation.path).security).toEqual([]);
      expect(errorStatuses(operation)).not.toContain(401);
    }
  });
});

describe("GET /docs", () => {
  it("is an HTML page whose scripts and styles are all same-origin, behind a CSP that allows nothing else", async () => {
    const response = await call("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toBe(DOCS_POLICY);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toMatch(/unsafe-eval|https?:|\*/);
    expect(policy).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    const sources: string[] = [];
    for (const [, attributes, body] of scripts) {
      const src = /\bsrc="([^"]+)"/.exec(attributes!)?.[1];
      expect(src, "no inline script").toBeDefined();
      expect(body!.trim()).toBe("");
      sources.push(src!);
    }
    const styles = [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((match) => match[1]!);
    expect(styles.length).toBeGreaterThan(0);
    for (const url of [...sources, ...styles]) {
      // Same origin: a path on this host, never another host (no scheme, no `//host`).
      expect(url, url).toMatch(/^\/(?!\/)/);
      const asset = await env.ASSETS.fetch(new URL(url, "http://gateway.test"));
      expect(asset.status, `${url} is served as an asset`).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(url.endsWith(".css") ? /^text\/css/ : /javascript/);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect(sources.some((src) => src.includes("swagger-ui-bundle.js"))).toBe(true);
  });

  it("its start script points the renderer at this gateway's /openapi.json, with no validator badge", async () => {
    const script = await (await env.ASSETS.fetch("http://gateway.test/docs/docs.js")).text();
    expect(script).toContain('url: "/openapi.json"');
    expect(script).toContain("validatorUrl: null");
  });
});
