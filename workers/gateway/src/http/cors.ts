/**
 * Per-tenant CORS. Only origins listed in the tenant's config get CORS headers, and a
 * cross-origin request from an unlisted origin is refused (403) before any work is done.
 * Preflights carry no credentials or tenant header, so they are answered for the tenant the
 * Host maps to, or else when any tenant lists the origin; the real request is then checked
 * against the tenant its key proves.
 *
 * The web chat widget's routes (docs/widget.md) answer a preflight from any origin: it carries no
 * credentials and grants nothing, since the request itself is then checked against its
 * publishable key's (or visitor token's) origins, which are the origins its responses are readable by.
 */
import type { TenantConfig } from "@crispy/contracts";
import { tenantsById } from "@crispy/tenants";

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
// mcp-protocol-version, mcp-session-id and last-event-id: what a browser MCP client sends to /mcp;
// x-session-ticket: what the chat widget sends to continue its session.
const ALLOWED_HEADERS =
  "authorization, content-type, x-api-key, x-tenant-id, x-request-id, traceparent, tracestate, mcp-protocol-version, mcp-session-id, last-event-id, x-session-ticket";
const EXPOSED_HEADERS =
  "x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after, server-timing, mcp-session-id, x-session-id, x-session-ticket";

/** The web chat widget's routes, all POST: its visitor session, then chat and search with the visitor token. */
const WIDGET_PATHS: ReadonlySet<string> = new Set(["/v1/widget/session", "/v1/chat", "/v1/search"]);

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

/** The CORS headers of a response `origin` may read. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": EXPOSED_HEADERS,
    "timing-allow-origin": origin,
    vary: "Origin",
  };
}

/** Whether a preflight is for one of the widget's routes (answered for any origin, see above). */
export function isWidgetPreflight(request: Request): boolean {
  return (
    request.headers.get("access-control-request-method") === "POST" && WIDGET_PATHS.has(new URL(request.url).pathname)
  );
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
