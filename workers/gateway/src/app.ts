/**
 * The request pipeline around the router: request id and trace context in, CORS preflight,
 * routing, the single error mapping (every failure, including unexpected exceptions, leaves as
 * the one JSON error shape with the request id), response headers (`Server-Timing` on every
 * response, see http/timing.ts), one access-log line per request and one more per server-side
 * failure, each with the tenant, request and trace ids.
 */
import type { TenantConfig } from "@crispy/contracts";
import { log, requestIdFrom, Spans, traceFrom, tracingOn } from "@crispy/observability";
import { ConfigError } from "@crispy/worker-kit";
import { namedTenant } from "./auth/authenticate";
import { servingOnly } from "./auth/pinned-tenant";
import { configOf } from "./config";
import { applyCors, isOriginAllowed, isWidgetPreflight, preflightResponse } from "./http/cors";
import { errorResponse, HttpError, statusOf, upstreamFailure } from "./http/errors";
import { serverTimingOf, takeTimings } from "./http/timing";
import { applyRateLimitHeaders } from "./limits";
import { router } from "./router";
import type { RequestState } from "./state";
import { recordRequestUsage } from "./usage/record";

function isPreflight(request: Request): boolean {
  return (
    request.method === "OPTIONS" &&
    request.headers.has("origin") &&
    request.headers.has("access-control-request-method")
  );
}

function preflight(request: Request, state: RequestState): Response {
  // The chat widget's routes, from any origin: their requests are checked against the key's origins (http/cors.ts).
  if (isWidgetPreflight(request)) return preflightResponse(state.origin!, undefined);
  let tenant: TenantConfig | undefined;
  try {
    tenant = namedTenant(request);
  } catch {
    tenant = undefined;
  }
  if (!isOriginAllowed(state.origin!, tenant)) {
    throw new HttpError(
      "forbidden",
      `origin ${state.origin} is not allowed${tenant ? ` for tenant "${tenant.id}"` : ""}`,
    );
  }
  return preflightResponse(state.origin!, tenant);
}

function toErrorResponse(error: unknown, state: RequestState): Response {
  if (error instanceof ConfigError) {
    log("error", "gateway_misconfigured", {
      tenantId: "-",
      requestId: state.requestId,
      traceId: state.trace.traceId,
      message: error.message,
    });
    return errorResponse(
      "internal",
      `the gateway is misconfigured (${error.variables.join(", ")}); the operator must fix its configuration`,
      state.requestId,
    );
  }
  if (error instanceof HttpError) {
    // A refusal of the client's request is in the access line's status; a failure on our side
    // (an internal worker's or the model's, 5xx) gets its own line with its code.
    if (statusOf(error.code) >= 500) {
      log("error", "request_failed", {
        tenantId: state.tenant?.id ?? "-",
        requestId: state.requestId,
        traceId: state.trace.traceId,
        code: error.code,
        message: error.message,
      });
    }
    return errorResponse(error.code, error.message, state.requestId, error.details, error.headers);
  }
  const upstream = upstreamFailure(error);
  log("error", upstream ? "upstream_exception" : "unhandled_exception", {
    tenantId: state.tenant?.id ?? "-",
    requestId: state.requestId,
    traceId: state.trace.traceId,
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  if (upstream) return errorResponse(upstream.code, upstream.message, state.requestId, undefined, upstream.headers);
  return errorResponse("internal", "internal error; quote the request id when reporting it", state.requestId);
}

function finalize(response: Response, request: Request, state: RequestState): Response {
  const headers = response.headers;
  const ms = Date.now() - state.startedAt;
  headers.set("x-request-id", state.requestId);
  headers.set("server-timing", serverTimingOf(state.spans, ms));
  applyRateLimitHeaders(headers, state);
  if (state.origin !== null && isOriginAllowed(state.origin, state.tenant)) applyCors(headers, state.origin);
  log("info", "request", {
    tenantId: state.tenant?.id ?? "-",
    requestId: state.requestId,
    traceId: state.trace.traceId,
    method: request.method,
    path: new URL(request.url).pathname,
    status: response.status,
    keyId: state.key?.id,
    ms,
  });
  return response;
}

/** Handles one public HTTP request. */
export async function handle(request: Request, env: GatewayEnv, ctx: ExecutionContext): Promise<Response> {
  const state: RequestState = {
    requestId: requestIdFrom(request.headers.get("x-request-id")),
    trace: traceFrom(request.headers.get("traceparent")),
    startedAt: Date.now(),
    origin: request.headers.get("origin"),
    clientIp: request.headers.get("cf-connecting-ip") ?? "unknown",
  };
  let response: Response;
  try {
    const { TENANT_ID } = configOf(env);
    state.spans = tracingOn("gateway", env) ? new Spans() : null;
    response = await servingOnly(TENANT_ID, async () => {
      if (isPreflight(request)) return preflight(request, state);
      const result: unknown = await router.fetch(request, env, ctx, state);
      return result instanceof Response ? result : Response.json(takeTimings(result, state.spans));
    });
  } catch (error) {
    response = toErrorResponse(error, state);
  }
  recordRequestUsage(env, ctx, request, response, state);
  try {
    return finalize(response, request, state);
  } catch {
    return finalize(new Response(response.body, response), request, state);
  }
}
