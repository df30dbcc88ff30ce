/**
 * Per-tenant CORS. Only origins listed in the tenant's config get CORS headers, and a
 * cross-origin request from an unlisted origin is refused (403) before any work is done.
 * Preflights carry no credentials or tenant header, so they are answered for the tenant the
 * Host maps to, or else when any tenant lists the origin; the real request is then checked
 * against the tenant its key proves.
 */
import type { TenantConfig } from "@crispy/contracts";
import { tenantsById } from "@crispy/tenants";

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
// mcp-protocol-version, mcp-session-id and last-event-id: what a browser MCP client sends to /mcp.
const ALLOWED_HEADERS =
  "authorization, content-type, x-api-key, x-tenant-id, x-request-id, traceparent, tracestate, mcp-protocol-version, mcp-session-id, last-event-id";
const EXPOSED_HEADERS =
  "x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after, server-timing, mcp-session-id";

const anyTenantOrigins = new Set(Object.values(tenantsById).flatMap((config) => config.cors.allowedOrigins));

export function isOriginAllowed(origin: string, tenant: TenantConfig | undefined): boolean {
  return tenant ? tenant.cors.allowedOrigins.includes(origin) : anyTenantOrigins.has(origin);
}

/** Adds the CORS response headers for an allowed origin. */
export function applyCors(headers: Headers, origin: string): void {
  headers.set("access-control-allow-origin", origin);
  headers.set("access-control-expose-headers", EXPOSED_HEADERS);
  // Lets the page's Resource Timing API read Server-Timing too (performance.getEntries()).
  headers.set("timing-allow-origin", origin);
  headers.append("vary", "Origin");
}

/** The answer to an allowed preflight. */
export function preflightResponse(origin: string, tenant: TenantConfig | undefined): Response {
  const headers = new Headers({
    "access-control-allow-origin": origin,
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": ALLOWED_HEADERS,
    "access-control-max-age": String(tenant?.cors.maxAgeSeconds ?? 600),
    vary: "Origin",
  });
  return new Response(null, { status: 204, headers });
}
