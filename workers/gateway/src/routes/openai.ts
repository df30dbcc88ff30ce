/**
 * OpenAI-compatible surface: `POST /v1/chat/completions` (stateless; stream and non-stream,
 * `stream_options.include_usage`; extension `session_id` records the exchange in a session) and
 * `GET /v1/models` (the tenant's allowed chat models). Errors keep the platform's shape, whose
 * `error.message` OpenAI clients read.
 */
import { OpenAiChatBodySchema } from "@crispy/contracts";
import { configOf } from "../config";
import { settled, settledIfFailed, turnBudget } from "../admission/budget";
import { readJson } from "../http/body";
import { unwrap } from "../http/errors";
import { sseResponse } from "../http/sse";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

export const chatCompletions = tenantRoute("chat", async ({ request, env, ctx, tenant }) => {
  requireFeature(tenant.config, "chat");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, OpenAiChatBodySchema);
  const budget = turnBudget(env, ctx, tenant);
  const call = env.CHAT.completions(tenant, body, budget);
  const result = unwrap(await (body.stream ? settledIfFailed(budget, call) : settled(budget, call)));
  return "body" in result ? sseResponse(result.body) : result;
});

export const models = tenantRoute(undefined, ({ tenant }) => ({
  object: "list",
  data: tenant.config.ai.chat.allowed.map((id) => ({ id, object: "model", created: 0, owned_by: tenant.config.id })),
}));
