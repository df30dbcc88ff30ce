/**
 * The resilience layer every caller goes through (`createAi(provider)`), wrapping one provider:
 *
 * - Models are tried in order (`chooseModels` builds the list); each model's retryable failures
 *   (429, 5xx, network, timeouts) are retried `retries` times with exponential backoff and jitter.
 * - Falling back to the next model happens only BEFORE the first output. Once a model has streamed
 *   a token or a tool call, a failure is thrown as an `AiError` naming that model — never a silent
 *   switch mid-answer.
 * - `chatStream` yields `{ type: "model", model }` once, right before the answering model's first
 *   output: its first token, its first `tool_call` (an answer that only calls tools), or its
 *   `done` (an empty answer), so callers can record which model answered. Every provider event,
 *   `tool_call`s included, passes through unchanged; `chat` returns the answer's `toolCalls`.
 * - `unsupported` (the request asks for something the model cannot do) is never retried and never
 *   falls back: it is thrown as it is, so the caller can answer 400 naming the field.
 * - A first-output timeout aborts a silent attempt, which then counts as a retryable failure.
 *   Non-streaming calls (`chat`, `embed`) have a whole-call timeout (`requestTimeoutMs`) instead.
 * - `speech` is like `embed`: one model, its retryable failures retried, and `requestTimeoutMs`
 *   bounding the wait for the audio to start (not how long the audio then takes to stream).
 * - The caller's `signal` stops everything (the attempt, backoff waits) with `AiError("aborted")`.
 * - A consumer that stops iterating early (`break` / `return()`) cancels the upstream stream.
 * - When every model failed: `AiError("ai_unavailable", "all models failed: <model>: <reason>; …")`.
 */
import { abortedError, childController, delay, raceAbort, throwIfAborted } from "./abort";
import { fromThrown } from "./errors";
import {
  AiError,
  type AiProvider,
  type CallMeta,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  type EmbedRequest,
  type EmbedResult,
  type SpeechRequest,
  type SpeechResult,
} from "./types";

export interface ResilienceOptions {
  /** Retries per model for retryable failures (default 2, so up to 3 attempts per model). */
  retries?: number;
  /** Base backoff: attempt n (0-based) waits between backoffMs·2ⁿ/2 and backoffMs·2ⁿ (default 200). */
  backoffMs?: number;
  /** How long a streamed attempt may stay silent before its first token or tool call (default 15000). */
  firstTokenTimeoutMs?: number;
  /** Whole-call limit for non-streaming `chat` and `embed` attempts (default 60000). */
  requestTimeoutMs?: number;
  /** Waits between retries; inject a fake in tests. Aborts do not wait for it to settle. */
  sleep?: (ms: number) => Promise<void>;
}

/** A chat request with the ordered list of models to try instead of one model. */
export type ResilientChatRequest = Omit<ChatRequest, "model"> & { models: string[] };

export type ResilientStreamEvent = ChatStreamEvent | { type: "model"; model: string };

export interface ResilientAi {
  /** Streams the answer of the first model that produces output; see the file comment. */
  chatStream(request: ResilientChatRequest, meta: CallMeta): AsyncIterable<ResilientStreamEvent>;
  /** The whole answer of the first model that answers; `result.model` names it. */
  chat(request: ResilientChatRequest, meta: CallMeta): Promise<ChatResult>;
  /** Embeds with `request.model`, retrying transient failures. */
  embed(request: EmbedRequest, meta: CallMeta): Promise<EmbedResult>;
  /** Speaks with `request.model`, retrying transient failures until the audio starts. */
  speech(request: SpeechRequest, meta: CallMeta): Promise<SpeechResult>;
}

interface OpenStream {
  iterator: AsyncIterator<ChatStreamEvent>;
  /** Events read while waiting for the first output, the last being that token, tool call or `done`. */
  head: ChatStreamEvent[];
  controller: AbortController;
  dispose(): void;
}

export function createAi(provider: AiProvider, options: ResilienceOptions = {}): ResilientAi {
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 200;
  const firstTokenTimeoutMs = options.firstTokenTimeoutMs ?? 15_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));

  /** Tries each model in turn, retrying its retryable failures; the first success wins. */
  async function firstSuccess<T>(
    models: readonly string[],
    signal: AbortSignal | undefined,
    attempt: (model: string) => Promise<T>,
  ): Promise<{ model: string; value: T }> {
    const candidates = [...new Set(models)];
    if (candidates.length === 0) throw new AiError("ai_unavailable", "no model to try");
    const failures: string[] = [];
    let last: AiError | undefined;
    let anyRetryable = false;
    for (const model of candidates) {
      for (let attemptNo = 0; ; attemptNo++) {
        throwIfAborted(signal);
        try {
          return { model, value: await attempt(model) };
        } catch (error) {
          if (signal?.aborted) throw abortedError();
          const failure = fromThrown(error, undefined);
          // Another try or another model cannot make an impossible request possible.
          if (failure.code === "unsupported") throw failure;
          last = failure;
          if (failure.retryable && attemptNo < retries) {
            await raceAbort(sleep(backoffDelay(backoffMs, attemptNo)), signal);
            continue;
          }
          anyRetryable ||= failure.retryable;
          failures.push(`${model}: ${failure.message}`);
          break;
        }
      }
    }
    throw new AiError("ai_unavailable", `all models failed: ${failures.join("; ")}`, last?.status, anyRetryable);
  }

  /** Starts one streamed attempt and reads up to its first output, within the first-token timeout. */
  async function openStream(request: Omit<ChatRequest, "model">, meta: CallMeta, model: string): Promise<OpenStream> {
    const { controller, dispose } = childController(request.signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, firstTokenTimeoutMs);
    let iterator: AsyncIterator<ChatStreamEvent> | undefined;
    try {
      iterator = provider.chatStream({ ...request, model, signal: controller.signal }, meta)[Symbol.asyncIterator]();
      const head: ChatStreamEvent[] = [];
      for (;;) {
        const next = await raceAbort(iterator.next(), controller.signal);
        if (next.done) throw new AiError("bad_response", `${model} ended its stream without answering`);
        head.push(next.value);
        if (next.value.type !== "usage") return { iterator, head, controller, dispose };
      }
    } catch (error) {
      controller.abort();
      if (iterator) closeQuietly(iterator);
      dispose();
      if (timedOut && !request.signal?.aborted) {
        throw new AiError("timeout", `${model} sent no token within ${firstTokenTimeoutMs} ms`, undefined, true);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one non-streaming attempt with its own abort controller and the whole-call timeout. */
  async function withinTimeout<T>(
    model: string,
    parent: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { controller, dispose } = childController(parent);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, requestTimeoutMs);
    try {
      return await raceAbort(run(controller.signal), controller.signal);
    } catch (error) {
      controller.abort();
      if (timedOut && !parent?.aborted) {
        throw new AiError("timeout", `${model} did not answer within ${requestTimeoutMs} ms`, undefined, true);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      dispose();
    }
  }

  return {
    async *chatStream(request, meta) {
      const { models, ...rest } = request;
      const signal = rest.signal;
      const { model, value: open } = await firstSuccess(models, signal, (candidate) =>
        openStream(rest, meta, candidate),
      );
      const { iterator, head, controller } = open;
      let reading = false;
      try {
        let announced = false;
        for (const event of head) {
          if (!announced && event.type !== "usage") {
            announced = true;
            yield { type: "model", model };
          }
          yield event;
        }
        if (head.at(-1)?.type === "done") return;
        for (;;) {
          reading = true;
          const next = await raceAbort(iterator.next(), controller.signal);
          reading = false;
          if (next.done) return;
          yield next.value;
          if (next.value.type === "done") return;
        }
      } catch (error) {
        if (signal?.aborted) throw abortedError();
        const failure = fromThrown(error, undefined);
        if (failure.code === "unsupported") throw failure;
        throw new AiError(
          failure.code,
          `${model} failed after the first token: ${failure.message}`,
          failure.status,
          failure.retryable,
        );
      } finally {
        if (reading) {
          // A read is still pending (abort or failure): abort first so it settles, don't wait on it.
          controller.abort();
          closeQuietly(iterator);
        } else {
          // Suspended between events (done, or the consumer stopped early): closing it now runs
          // the provider's cleanup, which cancels the upstream stream before we return.
          await iterator.return?.().catch(() => undefined);
          controller.abort();
        }
        open.dispose();
      }
    },

    async chat(request, meta) {
      const { models, ...rest } = request;
      const { model, value } = await firstSuccess(models, rest.signal, (candidate) =>
        withinTimeout(candidate, rest.signal, (signal) => provider.chat({ ...rest, model: candidate, signal }, meta)),
      );
      return { ...value, model };
    },

    async embed(request, meta) {
      const { value } = await firstSuccess([request.model], request.signal, (model) =>
        withinTimeout(model, request.signal, (signal) => provider.embed({ ...request, signal }, meta)),
      );
      return value;
    },

    async speech(request, meta) {
      const { value } = await firstSuccess([request.model], request.signal, (model) =>
        withinTimeout(model, request.signal, (signal) => provider.speech({ ...request, signal }, meta)),
      );
      return value;
    },
  };
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
function backoffDelay(baseMs: number, attemptNo: number): number {
  const ceiling = baseMs * 2 ** attemptNo;
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function closeQuietly(iterator: AsyncIterator<unknown>): void {
  iterator.return?.().catch(() => undefined);
}
