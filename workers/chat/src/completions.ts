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
import {
  callMeta,
  estimateRequestTokens,
  estimateTokens,
  type ResponseFormat,
  type SamplingOptions,
  type ToolSpec,
} from "@crispy/ai";
import { Spans, type SpanTimings, traceIdOf, tracingOn } from "@crispy/observability";
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
import { type CountedMessage, fitContext } from "./context-window";
import { newTurnId } from "./ids";
import type { NewMessage } from "./messages";
import { completionOf, type OpenAiChatCompletion } from "./openai";
import { SseStream } from "./sse";
import { type ServerTools, serverTools } from "./tools";
import { modelCallLog } from "./usage";
import {
  MAX_COMPLETION_TOKENS,
  newMessages,
  runTurn,
  type ModelReply,
  type TurnCall,
  type TurnFailure,
  type TurnTools,
} from "./turn";

/** A non-streamed completion as returned over RPC: the gateway moves `timings` into Server-Timing. */
export type TimedCompletion = OpenAiChatCompletion & { timings?: SpanTimings };

export async function startCompletion(
  env: ChatEnv,
  ctx: ExecutionContext,
  tenant: TenantContext,
  body: OpenAiChatBody,
  grant: TurnGrant,
  format: StreamFormat,
): Promise<RpcResult<StartedStream | TimedCompletion>> {
  const models = modelsFor(tenant, body.model);
  if (!models.ok) return models;
  const sessionId = body.session_id ?? null;
  if (sessionId !== null && !(await stubFor(env.SESSION_DIRECTORY, tenant.tenantId).get(sessionId))) {
    return fail("not_found", `session "${sessionId}" does not exist`);
  }

  const tools = await completionTools(env, tenant, body, sessionId);
  if (!tools.ok) return tools;
  const window = fitContext(body.messages.map(messageOf));
  const maxTokens = body.max_tokens ?? body.max_completion_tokens ?? MAX_COMPLETION_TOKENS;
  const reservation = await TurnTokens.open(
    grant,
    tenant,
    estimateRequestTokens(window.messages, tools.value?.specs) + maxTokens,
  );
  if (!reservation.ok) return reservation;

  const turnId = newTurnId();
  const id = `chatcmpl-${turnId}`;
  const created = Math.floor(Date.now() / 1000);
  const controller = new AbortController();
  const call: TurnCall = {
    ai: aiFromEnv(env),
    models: models.value,
    maxTokens,
    meta: callMeta(tenant, {
      turnId,
      ...(sessionId ? { sessionId } : {}),
      ...(body.user ? { user: body.user } : {}),
    }),
    signal: controller.signal,
    reservation: reservation.value,
    usage: modelCallLog(env, (work) => ctx.waitUntil(work), tenant),
    spans: tracingOn("chat", env) ? new Spans() : null,
    traceId: traceIdOf(tenant.traceparent),
    ...(tools.value ? { tools: tools.value } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.response_format ? { responseFormat: responseFormatOf(body.response_format) } : {}),
    ...(body.stop != null ? { stop: typeof body.stop === "string" ? [body.stop] : body.stop } : {}),
    ...samplingOf(body),
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
    const completion: TimedCompletion = completionOf(id, created, outcome.reply);
    if (outcome.reply.timings) completion.timings = outcome.reply.timings;
    return ok(completion);
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

/** What a completion records in its session: the last user message and what the turn added. */
function exchangeOf(body: OpenAiChatBody, reply: ModelReply): NewMessage[] {
  const question = body.messages.findLast((m) => m.role === "user");
  const added = newMessages(reply);
  return question
    ? [{ role: "user", content: question.content, tokens: estimateTokens(question.content) }, ...added]
    : added;
}

type WireMessage = OpenAiChatBody["messages"][number];

/** A request message as the AI layer takes it. */
function messageOf(message: WireMessage): CountedMessage {
  const base = { role: message.role, content: message.content, tokens: estimateTokens(message.content) };
  if (message.role === "assistant" && message.tool_calls) {
    const toolCalls = message.tool_calls.map((c) => ({
      id: c.id,
      name: c.function.name,
      arguments: c.function.arguments,
    }));
    return { ...base, toolCalls, tokens: base.tokens + estimateTokens(JSON.stringify(toolCalls)) };
  }
  if (message.role === "tool") return { ...base, toolCallId: message.tool_call_id };
  return base;
}

/**
 * The request's tools: the client's own (returned to it when called) and, with `server_tools`,
 * the tenant's tools the platform runs itself. A name in both is ambiguous: a 400.
 */
async function completionTools(
  env: ChatEnv,
  tenant: TenantContext,
  body: OpenAiChatBody,
  sessionId: string | null,
): Promise<RpcResult<TurnTools | null>> {
  const clientSpecs: ToolSpec[] = (body.tools ?? []).map(({ function: f }) => ({
    name: f.name,
    parameters: f.parameters ?? { type: "object", properties: {} },
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.strict != null ? { strict: f.strict } : {}),
  }));
  let server: ServerTools | null = null;
  if (body.server_tools) {
    const found = await serverTools(env, tenant, body.server_tools, {
      explicit: true,
      caller: "completions",
      sessionId,
      field: "server_tools",
    });
    if (!found.ok) return found;
    server = found.value;
    const clash = clientSpecs.find((spec) => server?.names.has(spec.name));
    if (clash) {
      return fail(
        "bad_request",
        `tools: "${clash.name}" is also a server tool; rename it or leave it out of server_tools`,
      );
    }
  }
  const specs = [...clientSpecs, ...(server?.specs ?? [])];
  if (specs.length === 0) return ok(null);
  const choice = body.tool_choice;
  return ok({
    specs,
    ...(choice !== undefined ? { choice: typeof choice === "string" ? choice : { name: choice.function.name } } : {}),
    ...(body.parallel_tool_calls != null ? { parallel: body.parallel_tool_calls } : {}),
    maxRounds: server ? tenant.config.tools.maxSteps : 0,
    isServerSide: (name) => server?.names.has(name) ?? false,
    execute: (call) => server!.execute(call),
  });
}

function responseFormatOf(format: NonNullable<OpenAiChatBody["response_format"]>): ResponseFormat {
  if (format.type !== "json_schema") return { type: format.type };
  const { name, description, schema, strict } = format.json_schema;
  return {
    type: "json_schema",
    name,
    schema: schema ?? { type: "object" },
    ...(description !== undefined ? { description } : {}),
    ...(strict != null ? { strict } : {}),
  };
}

function samplingOf(body: OpenAiChatBody): { sampling?: SamplingOptions } {
  const sampling: SamplingOptions = {
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(body.seed != null ? { seed: body.seed } : {}),
    ...(body.frequency_penalty != null ? { frequencyPenalty: body.frequency_penalty } : {}),
    ...(body.presence_penalty != null ? { presencePenalty: body.presence_penalty } : {}),
  };
  return Object.keys(sampling).length > 0 ? { sampling } : {};
}
