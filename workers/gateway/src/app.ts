/**
 * The request pipeline around the router: request id and trace context in, CORS preflight,
 * routing, the single error mapping (every failure, including unexpected exceptions, leaves as
 * the one JSON error shape with the request id), response headers, and one access-log line.
 */
import type { TenantConfig } from "@crispy/contracts";
import { log, requestIdFrom, traceFrom } from "@crispy/observability";
import { ConfigError } from "@crispy/worker-kit";
import { namedTenant } from "./auth/authenticate";
import { configOf } from "./config";
import { applyCors, isOriginAllowed, preflightResponse } from "./http/cors";
import { errorResponse, HttpError, upstreamFailure } from "./http/errors";
import { applyRateLimitHeaders } from "./limits";
import { router } from "./router";
import type { RequestState } from "./state";

function isPreflight(request: Request): boolean {
  return (
    request.method === "OPTIONS" &&
    request.headers.has("origin") &&
    request.headers.has("access-control-request-method")
  );
}

function preflight(request: Request, state: RequestState): Response {
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
    log("error", "gateway_misconfigured", { tenantId: "-", requestId: state.requestId, message: error.message });
    return errorResponse(
      "internal",
      `the gateway is misconfigured (${error.variables.join(", ")}); the operator must fix its configuration`,
      state.requestId,
    );
  }
  if (error instanceof HttpError)
    return errorResponse(error.code, error.message, state.requestId, error.details, error.headers);
  const upstream = upstreamFailure(error);
  log("error", upstream ? "upstream_exception" : "unhandled_exception", {
    tenantId: state.tenant?.id ?? "-",
    requestId: state.requestId,
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  if (upstream) return errorResponse(upstream.code, upstream.message, state.requestId, undefined, upstream.headers);
  return errorResponse("internal", "internal error; quote the request id when reporting it", state.requestId);
}

function finalize(response: Response, request: Request, state: RequestState): Response {
  const headers = response.headers;
  headers.set("x-request-id", state.requestId);
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
    ms: Date.now() - state.startedAt,
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
    configOf(env);
    if (isPreflight(request)) {
      response = preflight(request, state);
    } else {
      const result: unknown = await router.fetch(request, env, ctx, state);
      response = result instanceof Response ? result : Response.json(result);
    }
  } catch (error) {
    response = toErrorResponse(error, state);
  }
  try {
    return finalize(response, request, state);
  } catch {
    return finalize(new Response(response.body, response), request, state);
  }
}
