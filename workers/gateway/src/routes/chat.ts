/**
 * Chat routes: `POST /v1/chat` (and the seeds' `POST /chat`), streaming SSE by default or JSON
 * with `stream: false`. The gateway validates and authorises; the chat worker owns sessions,
 * budgets and the model call, and returns SSE bytes that are piped straight to the client.
 */
import { ChatBodySchema, type TenantConfig } from "@crispy/contracts";
import { configOf } from "../config";
import { settled, settledIfFailed, turnBudget } from "../admission/budget";
import { readJson } from "../http/body";
import { HttpError, unwrap } from "../http/errors";
import { sseResponse } from "../http/sse";
import { tenantRoute } from "./handler";

export function requireFeature(config: TenantConfig, feature: keyof TenantConfig["features"]): void {
  if (!config.features[feature]) throw new HttpError("forbidden", `${feature} is disabled for tenant "${config.id}"`);
}

export const chat = tenantRoute("chat", async ({ request, env, ctx, tenant }) => {
  requireFeature(tenant.config, "chat");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, ChatBodySchema);
  const input = {
    message: body.message,
    ...(body.sessionId ? { sessionId: body.sessionId } : {}),
    ...(body.model ? { model: body.model } : {}),
    ...(body.system ? { system: body.system } : {}),
    ...(body.rag !== undefined ? { rag: body.rag } : {}),
  };
  const budget = turnBudget(env, ctx, tenant);
  if (!body.stream) return unwrap(await settled(budget, env.CHAT.complete(tenant, input, budget)));
  const started = unwrap(await settledIfFailed(budget, env.CHAT.stream(tenant, input, "events", budget)));
  return sseResponse(started.body, { "x-session-id": started.sessionId });
});
