/**
 * Stateless OpenAI-style completions (`completions` RPC): the client sends the whole message list;
 * it is trimmed to the token budget from the oldest non-system messages and answered through the
 * same turn runner as session turns, with the same budget reserve/settle. Streamed as SSE (OpenAI
 * chunks by default) or returned as one `chat.completion` object.
 *
 * Invariants:
 * - With `session_id`, the session must exist (else not_found, before any model call) and the
 *   exchange (last user message + reply) is committed to it through the session's own queue, in
 *   one transaction, only after the model finished. Without it nothing is stored.
 * - A model outside the tenant's allow-list is "forbidden"; budget refusals are "budget_exceeded";
 *   both are returned before any streaming starts.
 */
import { callMeta, estimateTokens } from "@crispy/ai";
import { stubFor } from "@crispy/worker-kit";
import {
  fail,
  ok,
  type OpenAiChatBody,
  type RpcResult,
  type StartedStream,
  type StreamFormat,
  type TenantContext,
  type TurnGrant,
  USED_TOKENS_DETAIL,
} from "@crispy/contracts";
import { aiFromEnv, modelsFor } from "./ai";
import { configOf } from "./config";
import { TurnTokens } from "./budget";
import { fitContext } from "./context-window";
import { newTurnId } from "./ids";
import type { NewMessage } from "./messages";
import { completionOf, type OpenAiChatCompletion } from "./openai";
import { SseStream } from "./sse";
import { MAX_COMPLETION_TOKENS, runTurn, type ModelReply, type TurnCall, type TurnFailure } from "./turn";

export async function startCompletion(
  env: ChatEnv,
  ctx: ExecutionContext,
  tenant: TenantContext,
  body: OpenAiChatBody,
  grant: TurnGrant,
  format: StreamFormat,
): Promise<RpcResult<StartedStream | OpenAiChatCompletion>> {
  const models = modelsFor(tenant, body.model);
  if (!models.ok) return models;
  const sessionId = body.session_id ?? null;
  if (sessionId !== null && !(await stubFor(env.SESSION_DIRECTORY, tenant.tenantId).get(sessionId))) {
    return fail("not_found", `session "${sessionId}" does not exist`);
  }

  const window = fitContext(body.messages.map((m) => ({ ...m, tokens: estimateTokens(m.content) })));
  const maxTokens = body.max_tokens ?? MAX_COMPLETION_TOKENS;
  const reservation = await TurnTokens.open(grant, tenant, window.promptTokens + maxTokens);
  if (!reservation.ok) return reservation;

  const turnId = newTurnId();
  const id = `chatcmpl-${turnId}`;
  const created = Math.floor(Date.now() / 1000);
  const controller = new AbortController();
  const call: TurnCall = {
    ai: aiFromEnv(env),
    models: models.value,
    maxTokens,
    meta: callMeta(tenant, sessionId ? { turnId, sessionId } : { turnId }),
    signal: controller.signal,
    reservation: reservation.value,
  };
  const commit = async (reply: ModelReply): Promise<TurnFailure | null> => {
    if (sessionId === null) return null;
    const recorded = await stubFor(env.CHAT_SESSION, tenant.tenantId, sessionId).record(
      tenant,
      sessionId,
      turnId,
      exchangeOf(body, reply),
    );
    return recorded.ok ? null : recorded.error;
  };

  if (!body.stream) {
    const outcome = await runTurn(call, () => window, commit, null);
    if (!outcome.ok) {
      return fail(outcome.failure.code, outcome.failure.message, { [USED_TOKENS_DETAIL]: reservation.value.used });
    }
    return ok(completionOf(id, created, outcome.reply));
  }

  const sse = new SseStream(format, {
    heartbeatMs: configOf(env).HEARTBEAT_MS,
    onCancel: () => controller.abort(),
    openai: { id, created, includeUsage: body.stream_options?.include_usage === true },
  });
  ctx.waitUntil(
    runTurn(call, () => window, commit, sse).then(
      (outcome) => {
        if (!outcome.ok) return sse.error(outcome.failure.code, outcome.failure.message);
        const { model, usage, finishReason } = outcome.reply;
        sse.done({ turnId, sessionId, model, usage, finishReason });
      },
      () => sse.error("internal", "the completion failed unexpectedly"),
    ),
  );
  return ok({ sessionId: sessionId ?? "", body: sse.body });
}

/** What a completion records in its session: the last user message and the reply. */
function exchangeOf(body: OpenAiChatBody, reply: ModelReply): NewMessage[] {
  const question = body.messages.findLast((m) => m.role === "user");
  const answer: NewMessage = { role: "assistant", content: reply.text, tokens: reply.usage.completionTokens };
  return question
    ? [{ role: "user", content: question.content, tokens: estimateTokens(question.content) }, answer]
    : [answer];
}
