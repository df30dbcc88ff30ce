/**
 * Test helpers: a fresh tenant with tools on (its own registry rows, files and audit), an HTTP tool
 * body pointing at the test server (test/setup/tool-server.ts), an MCP server body pointing at the
 * test MCP server (test/setup/mcp-server.ts), and RPC result helpers.
 */
import type { HttpToolBody, McpServerBody, Scope, TenantConfig, TenantContext } from "@crispy/contracts";
import { contextFor, freshTenantId, testConfig } from "@crispy/testing";
import { inject } from "vitest";

type ConfigOverrides = Parameters<typeof testConfig>[0];

/** A tenant with `features.tools` on and a key with `scopes` (default tools + admin). */
export function toolsTenant(
  options: { config?: ConfigOverrides; scopes?: Scope[]; allowList?: string[]; tenantId?: string } = {},
): TenantContext {
  const config: TenantConfig = testConfig(
    { ...options.config, features: { tools: true, ...options.config?.features } },
    options.tenantId ?? freshTenantId(),
  );
  const tenant = contextFor(config, options.scopes ?? ["tools", "admin"]);
  return options.allowList ? { ...tenant, toolAllowList: options.allowList } : tenant;
}

/** The same tenant as another key: other scopes and allow-list, same config. */
export function asKey(tenant: TenantContext, scopes: Scope[], allowList?: string[]): TenantContext {
  const { toolAllowList: _, ...rest } = tenant;
  return { ...rest, requestId: crypto.randomUUID(), scopes, ...(allowList ? { toolAllowList: allowList } : {}) };
}

export function serverUrl(path: string): string {
  return `http://127.0.0.1:${inject("toolServerPort")}${path}`;
}

/** An HTTP tool body as the gateway would pass it (defaults applied). */
export function httpTool(overrides: Partial<HttpToolBody> = {}): HttpToolBody {
  return {
    name: "echo",
    description: "Echoes what it receives",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } },
      required: ["city"],
      additionalProperties: false,
    },
    url: serverUrl("/echo"),
    method: "POST",
    headers: {},
    timeoutMs: 5_000,
    ...overrides,
  };
}

export function mcpUrl(path = "/mcp"): string {
  return `http://127.0.0.1:${inject("mcpServerPort")}${path}`;
}

/** A remote MCP server body as the gateway would pass it, at the test server's `/mcp`. */
export function mcpServer(overrides: Partial<McpServerBody> = {}): McpServerBody {
  return { name: "demo", url: mcpUrl(), timeoutMs: 5_000, ...overrides };
}

export function callOf(name: string, input: unknown = {}, extra: { sessionId?: string; callId?: string } = {}) {
  return { name, inputJson: JSON.stringify(input), caller: "api" as const, ...extra };
}

export { failure, freshTenantId, unwrap } from "@crispy/testing";
