/**
 * The embedded default provider for `pnpm dev` and tests: offline, deterministic, and labelled
 * `local/*` so nobody mistakes it for a neural model. Any other model id is refused (non-retryable).
 *
 * Chat: the answer is a pure function of the conversation (see `local/compose.ts`): with `context`
 * it quotes the passages' sentences most lexically similar to the last user message and cites them
 * as [n]; without, it echoes the message with a label saying it does not reason. It streams word by
 * word ("token" texts keep their leading space, so concatenating them gives the full answer) with
 * `tokenDelayMs` between tokens (default 0). `maxTokens` bounds the answer (finishReason "length").
 * Usage uses `estimateTokens` (ceil(chars/4), +4 per message) for prompt and completion alike; the
 * prompt counted is the conversation with the context rendered as remote providers would send it,
 * plus its tool calls and the offered tools (`estimateRequestTokens`).
 *
 * Tools: a deterministic rule stands in for the model's decision (`local/tool-rule.ts`). With
 * tools offered and toolChoice not "none": after tool results it answers with text reporting them;
 * otherwise it calls every offered tool named as a whole word in the last user message (in order,
 * with the first JSON object after the name as arguments, else `{}`), only the first with
 * `parallelToolCalls: false`, exactly the named one for a named toolChoice, the first offered tool
 * for "required" when none is named; with no tool named and "auto" it answers as usual. An answer
 * with calls has no text; streamed, it is `tool_call` events, `usage`, then `done` "tool_calls".
 * `response_format`: json_object → `{"answer":"…"}`; json_schema → a deterministic instance of the
 * schema with the answer in its first string (`local/json-instance.ts`), or `unsupported` for a
 * keyword it cannot honour. `stop` cuts the answer before the first stop sequence (then `maxTokens`).
 * Order: answer text → response format → stop → maxTokens.
 *
 * Embeddings: hashed word unigrams + character trigrams, L2-normalised (`local/hash-embed.ts`).
 * Dimensions: `request.dimensions`, else N from a `local/hash-embed-N` model id, else 384.
 *
 * Speech (`local/tts-*` models): a deterministic synthesiser, no neural model (`local/speech.ts`):
 * 16-bit mono 24 kHz PCM as `wav` (the default) or raw `pcm`; other formats, an unknown voice
 * (OpenAI's voice names set the pitch), `instructions` or a non-`local/tts-*` model are
 * `unsupported`, naming the field.
 *
 * Failure injection, chosen by model id (for tests of the resilience layer and of tool loops):
 * - `local/fail-after-first-token`: streams its first output (a token, or a tool call), then throws
 *   a retryable `ai_unavailable`; its non-stream `chat` fails the same way before answering.
 * - `local/tool-loop`: calls the first offered tool (or the named one) on every answer, even after
 *   tool results, unless toolChoice is "none" — for tests of a caller's step bound.
 * - `local/slow-first-token`: waits `slowFirstTokenMs` (default one hour) before its first token or
 *   non-stream answer; an abort signal ends the wait at once with `AiError("aborted")`.
 * - any other id containing `fail` (e.g. `local/fail-always`): throws a retryable `ai_unavailable`
 *   before the first token, on every call (embeddings too).
 */
import { delay, throwIfAborted } from "../abort";
import { hashEmbed } from "../local/hash-embed";
import { LOCAL_VOICES, synthesise } from "../local/speech";
import { composeAnswer } from "../local/compose";
import { checkResponseFormat, formatAnswer } from "../local/json-instance";
import { planTools } from "../local/tool-rule";
import { withContext } from "../prompt";
import { cutAtStop } from "../stop";
import { estimateRequestTokens, estimateTokens, estimateUsage } from "../tokens";
import { checkToolChoice } from "../tool-wire";
import {
  AiError,
  type AiProvider,
  type CallMeta,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  type EmbedRequest,
  type EmbedResult,
  type FinishReason,
  type SpeechRequest,
  type SpeechResult,
  type ToolCall,
  type Usage,
} from "../types";

export interface LocalProviderOptions {
  /** Delay before each streamed token; 0 (the default) in tests, e.g. 15 in dev for a visible stream. */
  tokenDelayMs?: number;
  /** How long `local/slow-first-token` waits before answering; default one hour. */
  slowFirstTokenMs?: number;
}

const DEFAULT_DIMENSIONS = 384;
const MAX_DIMENSIONS = 8192;
const ONE_HOUR_MS = 60 * 60 * 1000;

type FailureMode = "none" | "fail" | "fail-after-first-token" | "slow-first-token";

interface Answer {
  pieces: string[];
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason: FinishReason;
}

export function createLocalProvider(options: LocalProviderOptions = {}): AiProvider {
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const slowFirstTokenMs = options.slowFirstTokenMs ?? ONE_HOUR_MS;

  async function beforeAnswer(model: string, signal: AbortSignal | undefined): Promise<FailureMode> {
    throwIfAborted(signal);
    const mode = failureMode(model);
    if (mode === "fail") throw simulatedOutage(model, "before the first token");
    if (mode === "slow-first-token") await delay(slowFirstTokenMs, signal);
    return mode;
  }

  return {
    name: "local",

    async chat(request: ChatRequest, _meta: CallMeta): Promise<ChatResult> {
      const answer = answerFor(request);
      const mode = await beforeAnswer(request.model, request.signal);
      if (mode === "fail-after-first-token") throw simulatedOutage(request.model, "mid-answer");
      return {
        text: answer.text,
        ...(answer.toolCalls.length > 0 ? { toolCalls: answer.toolCalls } : {}),
        usage: answer.usage,
        model: request.model,
        finishReason: answer.finishReason,
      };
    },

    async *chatStream(request: ChatRequest, _meta: CallMeta): AsyncGenerator<ChatStreamEvent> {
      const answer = answerFor(request);
      const mode = await beforeAnswer(request.model, request.signal);
      const outputs: ChatStreamEvent[] = [
        ...answer.pieces.map((text): ChatStreamEvent => ({ type: "token", text })),
        ...answer.toolCalls.map((call): ChatStreamEvent => ({ type: "tool_call", call })),
      ];
      for (const [index, output] of outputs.entries()) {
        if (tokenDelayMs > 0) await delay(tokenDelayMs, request.signal);
        else throwIfAborted(request.signal);
        yield output;
        if (index === 0 && mode === "fail-after-first-token") {
          throw simulatedOutage(request.model, "after the first token");
        }
      }
      yield { type: "usage", usage: answer.usage };
      yield { type: "done", finishReason: answer.finishReason };
    },

    async embed(request: EmbedRequest, _meta: CallMeta): Promise<EmbedResult> {
      checkModel(request.model);
      throwIfAborted(request.signal);
      if (failureMode(request.model) === "fail") throw simulatedOutage(request.model, "before answering");
      const dimensions = dimensionsFor(request);
      return {
        vectors: request.texts.map((text) => hashEmbed(text, dimensions)),
        model: request.model,
        usage: { promptTokens: request.texts.reduce((sum, text) => sum + estimateTokens(text), 0) },
      };
    },

    async speech(request: SpeechRequest, _meta: CallMeta): Promise<SpeechResult> {
      const { fundamental, speed, format } = checkSpeech(request);
      throwIfAborted(request.signal);
      if (failureMode(request.model) === "fail") throw simulatedOutage(request.model, "before speaking");
      const { audio } = synthesise(request.input, { fundamental, speed, format });
      return {
        audio,
        contentType: format === "wav" ? "audio/wav" : "audio/pcm",
        model: request.model,
        characters: request.input.length,
      };
    },
  };
}

/** What the local synthesiser can honour of a speech request; anything else is `unsupported`. */
function checkSpeech(request: SpeechRequest): { fundamental: number; speed: number; format: "wav" | "pcm" } {
  const { model } = request;
  if (!model.startsWith("local/tts-")) {
    throw new AiError("unsupported", `model: "${model}" is not a speech model; the local provider speaks local/tts-*`);
  }
  const format = request.format ?? "wav";
  if (format !== "wav" && format !== "pcm") {
    throw new AiError("unsupported", `response_format: ${model} writes wav or pcm, not ${format}`);
  }
  const fundamental = Object.hasOwn(LOCAL_VOICES, request.voice) ? LOCAL_VOICES[request.voice] : undefined;
  if (fundamental === undefined) {
    throw new AiError(
      "unsupported",
      `voice: ${model} has the voices ${Object.keys(LOCAL_VOICES).join(", ")}; not "${request.voice}"`,
    );
  }
  const speed = request.speed ?? 1;
  if (!(speed >= 0.25 && speed <= 4)) throw new AiError("unsupported", `speed: must be 0.25-4, not ${speed}`);
  if (request.instructions !== undefined) {
    throw new AiError("unsupported", `instructions: ${model} does not take voice instructions`);
  }
  return { fundamental, speed, format };
}

/**
 * The whole answer: tool calls by the tool rule, else the text (composed, or a report of tool
 * results) in the response format, cut at a stop sequence, split into word pieces and cut to
 * `maxTokens` (by `estimateTokens`). Refusals (`unsupported`, a non-local model) throw here,
 * before any token.
 */
function answerFor(request: ChatRequest): Answer {
  checkModel(request.model);
  checkToolChoice(request);
  checkResponseFormat(request.responseFormat, request.model);
  const prompt = estimateRequestTokens(withContext(request.messages, request.context), request.tools);
  const plan = planTools(request, request.model.includes("tool-loop"));
  if (plan && "calls" in plan) {
    return {
      pieces: [],
      text: "",
      toolCalls: plan.calls,
      usage: estimateUsage(prompt, "", plan.calls),
      finishReason: "tool_calls",
    };
  }
  const composed = plan?.report ?? composeAnswer(request.model, request.messages, request.context);
  const full = cutAtStop(formatAnswer(composed, request.responseFormat, request.model), request.stop).text;
  const all = full.match(/\s*\S+(?:\s+$)?/g) ?? [];
  const pieces: string[] = [];
  let text = "";
  for (const piece of all) {
    if (request.maxTokens !== undefined && estimateTokens(text + piece) > request.maxTokens) break;
    pieces.push(piece);
    text += piece;
  }
  return {
    pieces,
    text,
    toolCalls: [],
    usage: estimateUsage(prompt, text),
    finishReason: pieces.length < all.length ? "length" : "stop",
  };
}

function checkModel(model: string): void {
  if (!model.startsWith("local/")) {
    throw new AiError("ai_unavailable", `the local provider serves only local/* models, not "${model}"`);
  }
}

function failureMode(model: string): FailureMode {
  if (model.includes("fail-after-first-token")) return "fail-after-first-token";
  if (model.includes("slow-first-token")) return "slow-first-token";
  if (model.includes("fail")) return "fail";
  return "none";
}

function simulatedOutage(model: string, when: string): AiError {
  return new AiError("ai_unavailable", `${model}: simulated outage ${when}`, undefined, true);
}

function dimensionsFor(request: EmbedRequest): number {
  const fromId = /^local\/hash-embed-(\d+)$/.exec(request.model)?.[1];
  const dimensions = request.dimensions ?? (fromId ? Number(fromId) : DEFAULT_DIMENSIONS);
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
    throw new AiError(
      "unsupported",
      `dimensions: ${request.model} takes an integer in 1..${MAX_DIMENSIONS}, not ${dimensions}`,
    );
  }
  return dimensions;
}
