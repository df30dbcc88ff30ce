/**
 * One model call of a chat turn, between a reservation and a commit: runs the model through the
 * AI layer, reports the answering model and each token to an observer as they arrive, then lets
 * the caller commit and closes the reservation. Used by session turns (under the session's lock)
 * and by stateless OpenAI-style completions.
 *
 * Invariants:
 * - The model is called only once the prompt it will be sent and its maximum completion are
 *   reserved against the budget (`reservation.ensure`, measured as the provider will count them);
 *   a turn that does not fit fails with "budget_exceeded" and calls no model.
 * - Nothing is committed unless the model finished (`done`) and the turn was not aborted; the
 *   abort check and the caller's synchronous commit run in the same event, so a turn aborted by a
 *   cancel, reset or delete can never commit afterwards. No half turn is ever kept.
 * - The reservation is always closed: settled at the usage after a success; settled at the prompt
 *   plus the tokens produced when a failure or abort comes after the first token (the model ran);
 *   released when nothing was produced.
 * - A turn that was aborted before its turn came (queued behind another) never calls the model.
 */
import {
  type CallMeta,
  type ContextPassage,
  estimatePromptTokens,
  estimateTokens,
  type ResilientAi,
  withContext,
} from "@crispy/ai";
import { CHAT_LIMITS, type ErrorCode, type TokenUsage } from "@crispy/contracts";
import { log } from "@crispy/observability";
import type { TurnTokens } from "./budget";
import type { ContextWindow } from "./context-window";
import type { TurnObserver } from "./sse";

/** Completion tokens per turn; an OpenAI-style request's `max_tokens` replaces it. */
export const MAX_COMPLETION_TOKENS = CHAT_LIMITS.defaultCompletionTokens;

export interface TurnFailure {
  code: ErrorCode;
  message: string;
}

export interface ModelReply {
  model: string;
  text: string;
  usage: TokenUsage;
  finishReason: "stop" | "length";
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

/**
 * Runs the turn: `prompt` is read when the turn actually starts (after any queue), `commit` is
 * called once the model finished and should persist synchronously before its first await; it
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
  const { signal, reservation } = call;
  if (signal.aborted) {
    await reservation.release();
    return { ok: false, failure: abortFailure(signal) };
  }

  const window = prompt();
  const context = call.context?.length ? call.context : undefined;
  const promptTokens = estimatePromptTokens(withContext(window.messages, context));
  const reserved = await reservation.ensure(promptTokens + call.maxTokens);
  if (!reserved.ok) {
    await reservation.release();
    return { ok: false, failure: { code: reserved.error.code, message: reserved.error.message } };
  }
  const request = {
    models: call.models,
    messages: window.messages,
    maxTokens: call.maxTokens,
    signal,
    ...(context ? { context } : {}),
  };

  let model: string | null = null;
  let text = "";
  let produced = false;
  let usage: TokenUsage | null = null;
  let finishReason: "stop" | "length" | null = null;
  try {
    if (observer === null) {
      // A non-streaming turn asks the provider for one whole answer (no stream to read through).
      const result = await call.ai.chat(request, call.meta);
      ({ model, text, usage, finishReason } = result);
      produced = true;
    } else {
      for await (const event of call.ai.chatStream(request, call.meta)) {
        if (event.type === "model") {
          model = event.model;
          observer.model(event.model);
        } else if (event.type === "token") {
          produced = true;
          text += event.text;
          observer.token(event.text);
        } else if (event.type === "usage") {
          usage = event.usage;
        } else if (event.finishReason === "error") {
          throw new Error(`${model ?? "the model"} ended its answer with an error`);
        } else {
          finishReason = event.finishReason;
        }
      }
    }
    if (finishReason === null) throw new Error(`${model ?? "the model"} stopped without finishing`);
  } catch (error) {
    if (produced) await reservation.settle(promptTokens + estimateTokens(text));
    else await reservation.release();
    if (signal.aborted) return { ok: false, failure: abortFailure(signal) };
    const reason = error instanceof Error ? error.message : String(error);
    log("warn", "chat.model_failed", {
      tenantId: call.meta.tenantId,
      requestId: call.meta.requestId,
      models: call.models,
      afterFirstToken: produced,
      reason,
    });
    return { ok: false, failure: { code: "ai_unavailable", message: reason } };
  }

  const actual = usage ?? {
    promptTokens,
    completionTokens: estimateTokens(text),
    totalTokens: promptTokens + estimateTokens(text),
  };
  if (signal.aborted) {
    await reservation.settle(actual.totalTokens);
    return { ok: false, failure: abortFailure(signal) };
  }
  const reply: ModelReply = { model: model ?? call.models[0]!, text, usage: actual, finishReason };
  const problem = await commit(reply);
  await reservation.settle(actual.totalTokens);
  return problem ? { ok: false, failure: problem } : { ok: true, reply };
}
