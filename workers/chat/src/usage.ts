/**
 * The chat worker's usage points: every model call of a turn or completion (tokens, latency, time
 * to first token, how it ended — a client disconnect included), handed to this isolate's batcher
 * when the turn ends (worker-kit's UsageBatcher, the gateway's and rag's too): every tenant's
 * points of about a second go to crispy-ratelimit in one `recordUsage` call, kept alive by the
 * `waitUntil` of the turn that scheduled it, never on the response path. The batcher is shared by
 * the entrypoint (completions) and the ChatSession objects of this isolate. USAGE_RECORDING=off
 * records nothing (the bench's comparison). docs/usage.md.
 */
import { ModelCallLog, type ModelCallPoint, type TenantContext } from "@crispy/contracts";
import { log, logFieldsOf } from "@crispy/observability";
import { UsageBatcher, usageSink } from "@crispy/worker-kit";
import { configOf } from "./config";

const batcher = new UsageBatcher<ModelCallPoint>();

function lost(tenant: TenantContext, points: number, reason: string): void {
  log("warn", "chat.usage_not_recorded", { ...logFieldsOf(tenant), points, reason });
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
    (points) => batcher.add(tenant, points, usageSink(env.RATELIMIT, waitUntil, lost)),
    configOf(env).USAGE_RECORDING === "on",
  );
}
