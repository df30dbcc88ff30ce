/**
 * The chat worker's usage points: every model call of a turn or completion (tokens, latency, time
 * to first token, how it ended — a client disconnect included), sent to crispy-ratelimit in one
 * `recordUsage` call when the turn ends, kept alive by `waitUntil`, never on the response path.
 * USAGE_RECORDING=off records nothing (the bench's comparison). docs/usage.md.
 */
import { ModelCallLog, type ModelCallPoint, type TenantContext } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage } from "@crispy/worker-kit";
import { configOf } from "./config";

async function send(env: ChatEnv, tenant: TenantContext, points: ModelCallPoint[]): Promise<void> {
  try {
    const result = await env.RATELIMIT.recordUsage(tenant, points);
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  } catch (error) {
    log("warn", "chat.usage_not_recorded", {
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
      traceId: tenant.traceparent.split("-")[1],
      points: points.length,
      reason: errorMessage(error),
    });
  }
}

/** The model-call log of one turn of `tenant`'s request. */
export function modelCallLog(
  env: ChatEnv,
  waitUntil: (work: Promise<unknown>) => void,
  tenant: TenantContext,
): ModelCallLog {
  return new ModelCallLog(
    tenant,
    { worker: "chat", operation: "chat" },
    (points) => waitUntil(send(env, tenant, points)),
    configOf(env).USAGE_RECORDING === "on",
  );
}
