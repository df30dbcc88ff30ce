/**
 * OpenAI-compatible surface: `POST /v1/chat/completions` (stateless; stream and non-stream,
 * `stream_options.include_usage`, client-side tools returned to the client, extension
 * `server_tools` runs the tenant's tools in a loop, extension `session_id` records the exchange in
 * a session; every other OpenAI field honoured or refused with a 400, see docs/openai.md) and
 * `GET /v1/models` (the tenant's allowed chat models). Errors keep the platform's shape, whose
 * `error.message` OpenAI clients read.
 */
import { CHAT_LIMITS, OpenAiChatBodySchema } from "@crispy/contracts";
import { configOf } from "../config";
import { estimatePromptTokens } from "@crispy/ai";
import { routeBudget, settled, settledIfFailed } from "../admission/budget";
import { readJson } from "../http/body";
import { unwrap } from "../http/errors";
import { sseResponse } from "../http/sse";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

export const chatCompletions = tenantRoute("chat", async ({ request, env, ctx, tenant }) => {
  requireFeature(tenant.config, "chat");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, OpenAiChatBodySchema);
  // The most this call can spend: every message and the completion (the chat worker only trims).
  const estimate =
    estimatePromptTokens(body.messages) +
    (body.max_tokens ?? body.max_completion_tokens ?? CHAT_LIMITS.defaultCompletionTokens);
  const budget = await routeBudget(env, ctx, tenant, body.stream ? "callee" : "caller", estimate);
  const call = env.CHAT.completions(tenant, body, budget.grant);
  if (body.stream) {
    const started = unwrap(await settledIfFailed(budget, call));
    if (!("body" in started)) throw new Error("chat answered a stream request with a whole completion");
    return sseResponse(started.body);
  }
  return unwrap(await settled(budget, call, (reply) => ("usage" in reply ? reply.usage.total_tokens : 0)));
});

export const models = tenantRoute(undefined, ({ tenant }) => ({
  object: "list",
  data: tenant.config.ai.chat.allowed.map((id) => ({ id, object: "model", created: 0, owned_by: tenant.config.id })),
}));
