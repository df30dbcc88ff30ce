/** Helpers for the gateway's multi-worker tests: call the gateway, mint keys, read error bodies. */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { CreatedApiKey, ErrorBody, Scope, TenantConfig } from "@crispy/contracts";
import { tenantsById } from "@crispy/tenants";
import { testConfig } from "@crispy/testing";

export const OPERATOR_TOKEN = "test-operator-token";
export const ALL_SCOPES: Scope[] = ["chat", "search", "ingest", "tools"];

/** Sends a request to the gateway's public fetch handler. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://gateway.test${path}`, init));
}

export function bearer(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

/** Creates an API key through the operator API and returns it (shown once). */
export async function createKey(
  tenantId: string,
  scopes: Scope[] = ALL_SCOPES,
  extra: Record<string, unknown> = {},
): Promise<CreatedApiKey> {
  const response = await call(`/admin/tenants/${tenantId}/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ scopes, ...extra }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json<CreatedApiKey>();
}

/** Asserts the one error shape and returns its `error` object. */
export async function expectError(response: Response, status: number, code: string): Promise<ErrorBody["error"]> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
  return body.error;
}

/**
 * A fresh tenant, known to the gateway for the rest of this test file's run (tests run in the
 * gateway's own isolate, so adding it to the bundled tenant index is what a deploy with one more
 * tenant config would do): its own limits, budgets and Durable Objects.
 */
export function registerTenant(overrides?: Parameters<typeof testConfig>[0]): TenantConfig {
  const config = testConfig(overrides);
  (tenantsById as Record<string, TenantConfig>)[config.id] = config;
  return config;
}

/** Polls `check` until it stops throwing (or `ms` pass, then throws its last error). */
export async function eventually(check: () => Promise<void>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
