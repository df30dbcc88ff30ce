/**
 * The rag worker's usage points: each model call of a search answer or an embeddings request
 * (tokens, latency, time to first token, how it ended — a client disconnect included), and a search
 * answer served from the cache in place of a model call; handed to this isolate's batcher when the
 * request's work here ends (worker-kit's UsageBatcher, the gateway's and chat's too): every
 * tenant's points of about a second go to crispy-ratelimit in one `recordUsage` call, kept alive
 * by the `waitUntil` of the request that scheduled it, never on the response path.
 * USAGE_RECORDING=off records nothing (the bench's comparison). docs/usage.md.
 */
import { ModelCallLog, type ModelCallPoint, type TenantContext } from "@crispy/contracts";
import { log, logFieldsOf } from "@crispy/observability";
import { UsageBatcher, usageSink } from "@crispy/worker-kit";
import { configOf } from "./config";

const batcher = new UsageBatcher<ModelCallPoint>();

function lost(tenant: TenantContext, points: number, reason: string): void {
  log("warn", "rag.usage_not_recorded", { ...logFieldsOf(tenant), points, reason });
}

/** The model-call log of one `operation` of `tenant`'s request. */
export function modelCallLog(
  env: RagEnv,
  waitUntil: (work: Promise<unknown>) => void,
  tenant: TenantContext,
  operation: "search" | "embed",
): ModelCallLog {
  return new ModelCallLog(
    tenant,
    { worker: "rag", operation },
    (points) => batcher.add(tenant, points, usageSink(env.RATELIMIT, waitUntil, lost)),
    configOf(env).USAGE_RECORDING === "on",
  );
}
