/** Handler shapes and the wrappers that put authentication and limits in front of a route. */
import type { IRequest } from "itty-router";
import type { Scope, TenantContext } from "@crispy/contracts";
import { now } from "@crispy/observability";
import { authenticate } from "../auth/authenticate";
import { isVisitorRequest } from "../auth/visitor-auth";
import { timedEnv, trackCalls } from "../http/timing";
import { enforceRateLimit } from "../limits";
import { tenantContext, type AuthenticatedState, type RequestState } from "../state";
import { runVisitorRoute } from "./widget-visitor";

export type RouteArgs = [env: GatewayEnv, ctx: ExecutionContext, state: RequestState];
export type Handler = (request: IRequest, ...args: RouteArgs) => Promise<unknown> | unknown;

export interface TenantRequest {
  request: IRequest;
  env: GatewayEnv;
  ctx: ExecutionContext;
  state: AuthenticatedState;
  tenant: TenantContext;
}

/**
 * A data route: resolves and authenticates the tenant (needing `scope`, if given), applies the
 * key's rate limit, then runs `handler` with the tenant context every RPC call takes first.
 * With tracing on, authentication and admission are the `auth` and `admission` spans, and the
 * handler's env times its calls to the internal workers (http/timing.ts). A request with a chat
 * widget's visitor token is authenticated and limited as the visitor's instead (widget-visitor.ts).
 */
export function tenantRoute(
  scope: Scope | undefined,
  handler: (req: TenantRequest) => Promise<unknown> | unknown,
): Handler {
  return async (request, env, ctx, state) => {
    if (isVisitorRequest(request)) return runVisitorRoute(scope, handler, request, env, ctx, state);
    const spans = state.spans;
    if (!spans) {
      const authed = await authenticate(request, env, ctx, state, scope);
      const tenant = tenantContext(authed);
      await enforceRateLimit(env, ctx, state, tenant, { kind: "key", id: authed.key.id });
      return handler({ request, env, ctx, state: authed, tenant });
    }
    let started = now();
    let authed: AuthenticatedState;
    try {
      authed = await authenticate(request, env, ctx, state, scope);
    } finally {
      spans.end("auth", started);
    }
    const tenant = trackCalls(tenantContext(authed), spans);
    started = now();
    try {
      await enforceRateLimit(env, ctx, state, tenant, { kind: "key", id: authed.key.id });
    } finally {
      spans.end("admission", started);
    }
    return handler({ request, env: timedEnv(env), ctx, state: authed, tenant });
  };
}
