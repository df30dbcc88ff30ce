/**
 * The gateway's usage point: one per authenticated request (a key was verified — whatever the
 * status, a 429 or a 404 of that key included), with the route pattern (never the raw path and its
 * ids), method, status and latency to the response; for a stream, to when it started (its model
 * calls, recorded by chat or rag when they end — a client disconnect included — carry its tokens
 * and are linked to it by request id). Queued in this isolate's batcher (worker-kit's UsageBatcher,
 * the one chat and rag use too) and sent to crispy-ratelimit off the response path;
 * `USAGE_RECORDING=off` records nothing (the bench's comparison).
 */
import type { IRequest } from "itty-router";
import type { RequestPoint, TenantContext } from "@crispy/contracts";
import { log, logFieldsOf } from "@crispy/observability";
import { errorMessage, UsageBatcher, usageSink } from "@crispy/worker-kit";
import { configOf } from "../config";
import { type AuthenticatedState, type RequestState, tenantContext } from "../state";

/** This isolate's request points (the batcher shared with chat and rag, in worker-kit). */
const batcher = new UsageBatcher<RequestPoint>();
/** A route pattern as the router matched it, `/…` (the catch-all is "*"). */
const ROUTE = /^\/[\x21-\x7e]{0,127}$/;
const METHOD = /^[A-Z]{1,16}$/;

function lost(tenant: TenantContext, points: number, reason: string): void {
  log("warn", "usage_not_recorded", { ...logFieldsOf(tenant), points, reason });
}

/** Queues the usage point of an answered request (authenticated ones only). Never throws. */
export function recordRequestUsage(
  env: GatewayEnv,
  ctx: ExecutionContext,
  request: Request,
  response: Response,
  state: RequestState,
): void {
  if (!state.key || !state.tenant) return;
  try {
    if (configOf(env).USAGE_RECORDING === "off") return;
    const matched = (request as Partial<IRequest>).route;
    const point: RequestPoint = {
      kind: "request",
      ts: state.startedAt,
      requestId: state.requestId,
      keyId: state.key.id,
      route: typeof matched === "string" && ROUTE.test(matched) ? matched : "/*",
      method: METHOD.test(request.method) ? request.method : "OTHER",
      status: response.status,
      latencyMs: Math.max(0, Date.now() - state.startedAt),
    };
    batcher.add(
      tenantContext(state as AuthenticatedState),
      [point],
      usageSink(env.RATELIMIT, (work) => ctx.waitUntil(work), lost),
    );
  } catch (error) {
    // A misconfigured gateway already answered 500 naming the variable; usage is never a reason to fail.
    log("warn", "usage_not_recorded", {
      tenantId: state.tenant.id,
      requestId: state.requestId,
      traceId: state.trace.traceId,
      reason: errorMessage(error),
    });
  }
}
