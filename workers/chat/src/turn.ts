/**
 * The model calls of a chat turn, between a reservation and a commit: runs the model through the
 * AI layer, reports the answering model, each token, each tool call and each tool result to an
 * observer as they happen, runs the tenant's server-side tools the model calls and feeds their
 * results back (the tool loop), then lets the caller commit and closes the reservation. Used by
 * session turns (under the session's lock) and by stateless OpenAI-style completions.
 *
 * Invariants:
 * - Every model call is made only once its prompt and its maximum completion, plus what the
 *   turn's earlier calls used, are reserved against the budget (`reservation.ensure`, measured
 *   as the provider will count them); a call that does not fit fails the turn with
 *   "budget_exceeded" before that call.
 * - The loop is bounded: after `tools.maxRounds` rounds of server-side tool calls, the next model
 *   call is offered no tools (toolChoice "none") and must answer. A tool that fails, times out,
 *   is refused or gets invalid arguments becomes a tool result the model sees (`{"error": …}`),
 *   never a failed turn.
 * - A model answer with a call of a tool the platform does not run (a client-side tool of an
 *   OpenAI-style request) ends the turn with finishReason "tool_calls" and those calls; any
 *   server-side calls in that same answer are not run (the model calls them again later).
 * - Nothing is committed unless the turn finished and was not aborted; the abort check and the
 *   caller's synchronous commit run in the same event, so a turn aborted by a cancel, reset or
 *   delete — between tokens, during a tool call, between rounds — never commits afterwards. The
 *   commit gets every message of the turn (assistant tool calls and tool results included) at once.
 * - The reservation is always closed: settled at the usage after a success; settled at what the
 *   model calls produced when a failure or abort comes after the first output (the model ran);
 *   released when nothing was produced.
 * - A turn that was aborted before its turn came (queued behind another) never calls the model.
 * - Every model call is noted in `usage` with the tokens the budget is charged for it (a call cut
 *   short by a failure or a client disconnect: what it produced until then), and the notes are sent
 *   once, when the turn ends, however it ends (usage.ts).
 */
import {
  AiError,
  type CallMeta,
  type ChatMessage,
  type ContextPassage,
  estimateRequestTokens,
  estimateTokens,
  type FinishReason,
  type ResilientAi,
  type ResilientChatRequest,
  type ResponseFormat,
  type SamplingOptions,
  type ToolCall,
  type ToolChoice,
  type ToolSpec,
  withContext,
} from "@crispy/ai";
import {
  CHAT_LIMITS,
  type ErrorCode,
  type ModelCallLog,
  type ModelOutcome,
  type TokenUsage,
  type ToolExecutionStatus,
} from "@crispy/contracts";
import { log, now, Spans, type SpanTimings } from "@crispy/observability";
import type { TurnTokens } from "./budget";
import type { ContextWindow } from "./context-window";
import type { NewMessage } from "./messages";
import type { TurnObserver } from "./sse";

/** Completion tokens per model call; an OpenAI-style request's `max_tokens` replaces it. */
export const MAX_COMPLETION_TOKENS = CHAT_LIMITS.defaultCompletionTokens;

export interface TurnFailure {
  code: ErrorCode;
  message: string;
}

/** One run tool call, as the model and the observer see its result. */
export interface ToolResult {
  call: ToolCall;
  status: ToolExecutionStatus;
  /** The result text (the error message when it failed). */
  output: string;
  truncated: boolean;
  durationMs: number;
  /** The audit row's id; null when the call was refused before the tools worker audited it. */
  executionId: string | null;
}

/** The tools a turn offers the model, and how it runs the server-side ones. */
export interface TurnTools {
  specs: ToolSpec[];
  choice?: ToolChoice;
  parallel?: boolean;
  /** Rounds of server-side tool calls before the model is made to answer. */
  maxRounds: number;
  /** Whether the platform runs this tool (else the call is returned to the client). */
  isServerSide(name: string): boolean;
  /** Runs one server-side call; never throws (a failure is a result with status "error"). */
  execute(call: ToolCall): Promise<ToolResult>;
}

export interface ModelReply {
  model: string;
  /** The final answer's text. */
  text: string;
  /** Client-side tool calls the turn ended with (finishReason "tool_calls"). */
  toolCalls: ToolCall[];
  /** Every message the turn added after the prompt, the final answer last. */
  transcript: ChatMessage[];
  usage: TokenUsage;
  finishReason: FinishReason;
  /** The turn's spans: `model` (its model calls), `ttft` (streamed: to the first token), `tool` (its tool rounds). */
  timings?: SpanTimings;
}

export interface TurnCall {
  ai: Pick<ResilientAi, "chatStream" | "chat">;
  models: string[];
  maxTokens: number;
  meta: CallMeta;
  /** Aborted by a client cancel, or by a reset/delete of the session (reason: a TurnFailure). */
  signal: AbortSignal;
  reservation: TurnTokens;
  /** Retrieved passages for a RAG turn; the model cites them as [n]. */
  context?: ContextPassage[];
  tools?: TurnTools;
  temperature?: number;
  responseFormat?: ResponseFormat;
  stop?: string[];
  sampling?: SamplingOptions;
  /** Where the turn's model calls are noted for usage reports (flushed when the turn ends). */
  usage?: ModelCallLog;
  /** Where the turn's spans go (null: TRACING is "off"; absent: a recorder of its own). */
  spans?: Spans | null;
  /** The request's trace id, for the turn's log lines. */
  traceId?: string;
}

export type TurnOutcome = { ok: true; reply: ModelReply } | { ok: false; failure: TurnFailure };

/** Why a turn was aborted: the TurnFailure given as the abort reason, else a client cancel. */
export function abortFailure(signal: AbortSignal): TurnFailure {
  const reason: unknown = signal.reason;
  if (typeof reason === "object" && reason !== null && "code" in reason && "message" in reason) {
    return reason as TurnFailure;
  }
  return { code: "conflict", message: "the turn was cancelled by the client" };
}

/** What one model call answered. */
interface StepAnswer {
  model: string;
  text: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  finishReason: FinishReason;
}

/**
 * Runs the turn: `prompt` is read when the turn actually starts (after any queue), `commit` is
 * called once the turn finished and should persist synchronously before its first await; it
 * returns a TurnFailure when the turn must be reported as failed (its writes are then undone by it).
 * (A completion's commit into a session is an RPC: an abort during that call does not undo it,
 * which is harmless because the answer was already complete.)
 */
export async function runTurn(
  call: TurnCall,
  prompt: () => ContextWindow,
  commit: (reply: ModelReply) => Promise<TurnFailure | null>,
  observer: TurnObserver | null,
): Promise<TurnOutcome> {
  try {
    return await runModelCalls(call, prompt, commit, observer);
  } finally {
    call.usage?.flush();
  }
}

async function runModelCalls(
  call: TurnCall,
  prompt: () => ContextWindow,
  commit: (reply: ModelReply) => Promise<TurnFailure | null>,
  observer: TurnObserver | null,
): Promise<TurnOutcome> {
  const { signal, reservation } = call;
  if (signal.aborted) {
    await reservation.release();
    return { ok: false, failure: abortFailure(signal) };
  }

  const context = call.context?.length ? call.context : undefined;
  const base = prompt().messages;
  const transcript: ChatMessage[] = [];
  const spent: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const tools = call.tools?.specs.length ? call.tools : undefined;
  let model: string | null = null;
  let produced = false;
  let rounds = 0;

  // The tokens an unfinished call used, for settling after a failure.
  let pending = 0;
  const spans = call.spans === undefined ? new Spans() : call.spans;
  // The model call under way, for its usage note.
  let inCall: { started: number; prompt: number; completion: number; firstAt: number | null } | null = null;
  const note = (modelId: string, promptTokens: number, completionTokens: number, outcome: ModelOutcome) => {
    if (!inCall) return;
    call.usage?.add({
      ts: inCall.started,
      model: modelId,
      promptTokens: Math.max(0, Math.round(promptTokens)),
      completionTokens: Math.max(0, Math.round(completionTokens)),
      latencyMs: Math.max(0, Date.now() - inCall.started),
      ttftMs: inCall.firstAt === null ? null : Math.max(0, inCall.firstAt - inCall.started),
      cacheHit: false,
      outcome,
    });
    inCall = null;
  };
  const close = async (): Promise<void> => {
    if (produced) await reservation.settle(spent.totalTokens + pending);
    else await reservation.release();
  };

  try {
    for (;;) {
      const messages = [...base, ...transcript];
      // Only after a round of server-side tools (a request with client-side tools only has no rounds).
      const mustAnswer = tools !== undefined && rounds > 0 && rounds >= tools.maxRounds;
      const promptTokens = estimateRequestTokens(withContext(messages, context), tools?.specs);
      const reserved = await reservation.ensure(spent.totalTokens + promptTokens + call.maxTokens);
      if (!reserved.ok) {
        await close();
        return { ok: false, failure: { code: reserved.error.code, message: reserved.error.message } };
      }
      const request: ResilientChatRequest = {
        models: model === null ? call.models : [model],
        messages,
        maxTokens: call.maxTokens,
        signal,
        ...(context ? { context } : {}),
        ...(tools ? toolOptions(tools, rounds, mustAnswer) : {}),
        ...(call.temperature !== undefined ? { temperature: call.temperature } : {}),
        ...(call.responseFormat ? { responseFormat: call.responseFormat } : {}),
        ...(call.stop?.length ? { stop: call.stop } : {}),
        ...(call.sampling ? { sampling: call.sampling } : {}),
      };
      pending = promptTokens;
      inCall = { started: Date.now(), prompt: promptTokens, completion: 0, firstAt: null };
      const modelStarted = now();
      const answer = await askModel(
        call,
        request,
        observer,
        promptTokens,
        (first) => {
          if (model === null) {
            model = first;
            // Only a streamed call has a first token before its end; the first call's is the turn's.
            if (observer) spans?.once("ttft", now() - modelStarted);
            observer?.model(first);
          }
          produced = true;
        },
        (tokens) => {
          pending = promptTokens + tokens;
          if (inCall) {
            inCall.completion = tokens;
            inCall.firstAt ??= Date.now();
          }
        },
      );
      spans?.end("model", modelStarted);
      note(answer.model, answer.usage.promptTokens, answer.usage.completionTokens, "ok");
      pending = 0;
      spent.promptTokens += answer.usage.promptTokens;
      spent.completionTokens += answer.usage.completionTokens;
      spent.totalTokens += answer.usage.totalTokens;
      if (signal.aborted) throw new AbortedTurn();

      const clientCalls = answer.toolCalls.filter((c) => !tools?.isServerSide(c.name));
      const serverCalls = answer.toolCalls.filter((c) => tools?.isServerSide(c.name));
      const assistant: ChatMessage = {
        role: "assistant",
        content: answer.text,
        ...(answer.toolCalls.length ? { toolCalls: clientCalls.length ? clientCalls : serverCalls } : {}),
      };
      transcript.push(assistant);
      if (clientCalls.length > 0 || serverCalls.length === 0) {
        for (const toolCall of clientCalls) observer?.toolCall(toolCall, false);
        const reply: ModelReply = {
          model: answer.model,
          text: answer.text,
          toolCalls: clientCalls,
          transcript,
          usage: spent,
          finishReason:
            clientCalls.length > 0 ? "tool_calls" : answer.finishReason === "tool_calls" ? "stop" : answer.finishReason,
          ...(spans ? { timings: spans.timings() } : {}),
        };
        if (signal.aborted) throw new AbortedTurn();
        if (reply.timings) observer?.timings?.(reply.timings);
        const problem = await commit(reply);
        await reservation.settle(spent.totalTokens);
        return problem ? { ok: false, failure: problem } : { ok: true, reply };
      }

      // A round of server-side tools: run them (side by side), then give the model their results.
      rounds += 1;
      for (const toolCall of serverCalls) observer?.toolCall(toolCall, true);
      const toolsStarted = now();
      const results = await Promise.all(serverCalls.map((toolCall) => tools!.execute(toolCall)));
      spans?.end("tool", toolsStarted);
      if (signal.aborted) throw new AbortedTurn();
      for (const result of results) {
        observer?.toolResult(result);
        transcript.push({ role: "tool", toolCallId: result.call.id, content: toolMessageOf(result) });
      }
    }
  } catch (error) {
    // Noted as the budget charges it: what the call produced, or nothing when the turn produced nothing.
    const cut = inCall as { prompt: number; completion: number } | null;
    if (cut) {
      note(
        model ?? call.models[0] ?? "unknown",
        produced ? cut.prompt : 0,
        produced ? cut.completion : 0,
        signal.aborted || error instanceof AbortedTurn ? "aborted" : "error",
      );
    }
    await close();
    if (signal.aborted || error instanceof AbortedTurn) return { ok: false, failure: abortFailure(signal) };
    if (error instanceof AiError && error.code === "unsupported") {
      return { ok: false, failure: { code: "bad_request", message: error.message } };
    }
    const reason = error instanceof Error ? error.message : String(error);
    log("warn", "chat.model_failed", {
      tenantId: call.meta.tenantId,
      requestId: call.meta.requestId,
      traceId: call.traceId ?? "-",
      models: call.models,
      afterFirstToken: produced,
      reason,
    });
    return { ok: false, failure: { code: "ai_unavailable", message: reason } };
  }
}

class AbortedTurn extends Error {}

/** The messages a finished turn adds after its prompt, as stored: tool calls and results, the answer. */
export function newMessages(reply: ModelReply): NewMessage[] {
  return reply.transcript.map((message) => ({
    role: message.role,
    content: message.content,
    tokens:
      estimateTokens(message.content) + (message.toolCalls ? estimateTokens(JSON.stringify(message.toolCalls)) : 0),
    ...(message.toolCalls?.length ? { toolCalls: message.toolCalls } : {}),
    ...(message.toolCallId ? { toolCallId: message.toolCallId } : {}),
  }));
}

/**
 * The tool fields of a model call: the first call gets the caller's tool_choice; later ones
 * "auto" (a forced choice would force a tool call every round); once the rounds are spent, "none".
 */
function toolOptions(tools: TurnTools, rounds: number, mustAnswer: boolean): Partial<ResilientChatRequest> {
  const choice: ToolChoice | undefined = mustAnswer
    ? "none"
    : rounds === 0 || tools.choice === undefined || tools.choice === "none"
      ? tools.choice
      : "auto";
  return {
    tools: tools.specs,
    ...(choice !== undefined ? { toolChoice: choice } : {}),
    ...(tools.parallel !== undefined ? { parallelToolCalls: tools.parallel } : {}),
  };
}

/** What the model reads as a tool's result: the output, or `{"error": …}` when it failed. */
export function toolMessageOf(result: ToolResult): string {
  if (result.status === "ok") return result.output;
  return JSON.stringify({ error: result.output, status: result.status });
}

/** One model call: streamed through the observer, or (no observer) one whole answer. */
async function askModel(
  call: TurnCall,
  request: ResilientChatRequest,
  observer: TurnObserver | null,
  promptTokens: number,
  onFirstOutput: (model: string) => void,
  onProgress: (completionTokens: number) => void,
): Promise<StepAnswer> {
  if (observer === null) {
    // A non-streaming turn asks the provider for one whole answer (no stream to read through).
    const result = await call.ai.chat(request, call.meta);
    onFirstOutput(result.model);
    return {
      model: result.model,
      text: result.text,
      toolCalls: result.toolCalls ?? [],
      usage: result.usage,
      finishReason: result.finishReason,
    };
  }
  let model: string | null = null;
  let text = "";
  const toolCalls: ToolCall[] = [];
  let usage: TokenUsage | null = null;
  let finishReason: FinishReason | null = null;
  for await (const event of call.ai.chatStream(request, call.meta)) {
    if (event.type === "model") {
      model = event.model;
      onFirstOutput(event.model);
    } else if (event.type === "token") {
      text += event.text;
      onProgress(estimateTokens(text));
      observer.token(event.text);
    } else if (event.type === "tool_call") {
      toolCalls.push(event.call);
      onProgress(estimateTokens(text) + estimateTokens(event.call.arguments));
    } else if (event.type === "usage") {
      usage = event.usage;
    } else if (event.finishReason === "error") {
      throw new Error(`${model ?? "the model"} ended its answer with an error`);
    } else {
      finishReason = event.finishReason;
    }
  }
  if (finishReason === null) throw new Error(`${model ?? "the model"} stopped without finishing`);
  const completion = estimateTokens(text) + toolCalls.reduce((sum, c) => sum + estimateTokens(c.arguments), 0);
  return {
    model: model ?? request.models[0]!,
    text,
    toolCalls,
    usage: usage ?? { promptTokens, completionTokens: completion, totalTokens: promptTokens + completion },
    finishReason,
  };
}
