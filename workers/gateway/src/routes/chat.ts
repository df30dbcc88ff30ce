/**
 * Chat routes: `POST /v1/chat` (and the seeds' `POST /chat`), streaming SSE by default or JSON
 * with `stream: false`. The gateway validates and authorises; the chat worker owns sessions,
 * budgets and the model call, and returns SSE bytes that are piped straight to the client.
 */
import { ChatBodySchema, type TenantConfig } from "@crispy/contracts";
import { configOf } from "../config";
import { routeBudget, settled, settledIfFailed } from "../admission/budget";
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
    ...(body.tools !== undefined ? { tools: body.tools } : {}),
  };
  if (!body.stream) {
    const whole = await routeBudget(env, ctx, tenant, "caller");
    return unwrap(
      await settled(whole, env.CHAT.complete(tenant, input, whole.grant), (reply) => reply.usage.totalTokens),
    );
  }
  const streamed = await routeBudget(env, ctx, tenant, "callee");
  const started = unwrap(await settledIfFailed(streamed, env.CHAT.stream(tenant, input, "events", streamed.grant)));
  return sseResponse(started.body, { "x-session-id": started.sessionId });
});
