/**
 * Production provider: Workers AI through the `AI` binding, always routed through the tenant's AI
 * Gateway — every call passes `{ gateway: { id: meta.gatewayId, metadata } }` with `tenantId` and
 * `requestId` first and at most 5 metadata keys (AI Gateway keeps only the first five).
 *
 * Wire formats, as Cloudflare documents them:
 * - chat, non-stream: `{ response: string, usage: { prompt_tokens, completion_tokens, total_tokens } }`
 * - chat, stream: SSE bytes, `data: {"response":"…","p":"…"}` per piece ("p" is padding against
 *   length side channels), possibly a last event carrying `usage`, then `data: [DONE]`
 * - embeddings (`@cf/baai/bge-base-en-v1.5`, input `{ text: [...] }`): `{ shape: [n, d], data }`
 * Models the binding serves in OpenAI format (`choices[0].message|delta.content`) are read too.
 * - text-to-speech: Deepgram Aura (`returnRawResponse: true`, the audio as the response body) and
 *   MeloTTS (`{ audio }`, base64 MP3); inputs and what each honours are in workers-ai-speech.ts.
 *
 * Request options, per the models' documented input schema (e.g. llama-3.3-70b-instruct-fp8-fast):
 * - tools ("traditional function calling"): input `tools` in the documented nested form
 *   `{ type: "function", function: { name, description, parameters } }` (accepted by the older
 *   schemas and the OpenAI-format ones alike; `description` is required, "" when a spec has none).
 *   The answer carries `tool_calls: [{ name, arguments }]` (arguments an object) at the top level,
 *   or OpenAI-format `choices[0].message.tool_calls` on newer models; both are read, and calls
 *   without an id get a stable one (`toolCallId`). The binding takes no `tool_choice` or
 *   `parallel_tool_calls`, so they are applied here: "none" sends no tools, a named choice
 *   offers only that tool, `parallelToolCalls: false` keeps only the first call; "required" is
 *   best effort (all tools offered; the model may still answer in text).
 * - JSON mode: `response_format: { type: "json_object" }` or
 *   `{ type: "json_schema", json_schema: <the schema itself> }`; the answer's `response` may then be
 *   an object, returned as its JSON text. (`name`, `strict`, `description` have no place there.)
 * - `top_p`, `seed`, `frequency_penalty`, `presence_penalty` are passed as such; there is no `stop`,
 *   so stop sequences are applied here (`stop.ts`), streamed or not.
 * - Workers AI does not stream tool calls, and JSON mode does not stream at all, so `chatStream`
 *   with tools offered or a JSON response format makes one non-stream call and then emits the
 *   answer as events: one `token` with the whole text (if any), a `tool_call` per call, `usage`,
 *   `done`. The first-token timeout then covers the whole answer.
 *
 * The binding throws plain Errors whose message carries Workers AI's internal code
 * ("3040: Capacity temporarily exceeded"); documented codes map to their HTTP status (3040 → 429,
 * retryable; 5007 → 400, not), and failures without a known code count as transient.
 * Workers AI finishes without a reason, so "length" is inferred when the completion used all of
 * `maxTokens`. Note that many Workers AI models default to 256 max tokens: pass `maxTokens`.
 */
import { throwIfAborted } from "../abort";
import { badResponse, errorFromStatus, fromThrown, messageOf } from "../errors";
import { finishReasonOf, firstChoice, isRecord, readVectors, usageOf } from "../json";
import { withContext } from "../prompt";
import { chatStreamEvents } from "../sse";
import { cutAtStop } from "../stop";
import { estimateRequestTokens, estimateTokens, estimateUsage } from "../tokens";
import { checkToolChoice, offeredTools, readToolCalls, toolCallId, wireMessages, wireTools } from "../tool-wire";
import {
  AiError,
  type AiProvider,
  type CallMeta,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  type EmbedRequest,
  type EmbedResult,
  type FinishReason,
  type SpeechRequest,
  type SpeechResult,
  type ToolSpec,
  type Usage,
} from "../types";
import { speechAudio, speechCall } from "./workers-ai-speech";

/** The part of the `AI` binding this provider uses; the generated `Ai` type is assignable to it. */
export interface AiBinding {
  run(model: string, input: unknown, options?: unknown): Promise<unknown>;
}

export interface WorkersAiProviderOptions {
  binding: AiBinding;
}

/** AI Gateway keeps only the first five metadata entries of a request. */
const MAX_GATEWAY_METADATA_KEYS = 5;

/** Workers AI internal error codes and their HTTP statuses (developers.cloudflare.com/workers-ai/platform/errors). */
const STATUS_OF_CODE: Readonly<Record<number, number>> = {
  3003: 400,
  3006: 413,
  3007: 408,
  3008: 408,
  3023: 403,
  3036: 429,
  3039: 400,
  3040: 429,
  3041: 403,
  3042: 404,
  5004: 400,
  5005: 405,
  5007: 400,
  5016: 403,
  5018: 403,
  5019: 405,
};

export function createWorkersAiProvider(options: WorkersAiProviderOptions): AiProvider {
  const { binding } = options;

  async function run(
    model: string,
    input: unknown,
    meta: CallMeta,
    signal?: AbortSignal,
    extra: Record<string, unknown> = {},
  ) {
    throwIfAborted(signal);
    const runOptions: Record<string, unknown> = { gateway: gatewayOption(meta), ...extra };
    if (signal) runOptions.signal = signal;
    try {
      return await binding.run(model, input, runOptions);
    } catch (error) {
      throw bindingError(model, error, signal);
    }
  }

  return {
    name: "workers-ai",

    async chat(request: ChatRequest, meta: CallMeta): Promise<ChatResult> {
      checkToolChoice(request);
      const messages = withContext(request.messages, request.context);
      const output = await run(request.model, chatInput(request, messages, false), meta, request.signal);
      return readAnswer(request, messages, output);
    },

    async *chatStream(request: ChatRequest, meta: CallMeta): AsyncGenerator<ChatStreamEvent> {
      checkToolChoice(request);
      const messages = withContext(request.messages, request.context);
      if (answersWhole(request)) {
        // No streamed tool calls and no streamed JSON mode: one call, replayed as events.
        const output = await run(request.model, chatInput(request, messages, false), meta, request.signal);
        const result = readAnswer(request, messages, output);
        if (result.text) yield { type: "token", text: result.text };
        for (const call of result.toolCalls ?? []) yield { type: "tool_call", call };
        yield { type: "usage", usage: result.usage };
        yield { type: "done", finishReason: result.finishReason };
        return;
      }
      const output = await run(request.model, chatInput(request, messages, true), meta, request.signal);
      if (!(output instanceof ReadableStream)) {
        throw badResponse(`${request.model} did not return a stream for stream: true`);
      }
      yield* chatStreamEvents(
        output,
        {
          model: request.model,
          pieceOf,
          ...(request.stop ? { stop: request.stop } : {}),
          estimate: (text) => estimateUsage(estimateRequestTokens(messages), text),
          finish: (reason, usage) => decideFinish(reason, usage, request.maxTokens),
        },
        request.signal,
      );
    },

    async embed(request: EmbedRequest, meta: CallMeta): Promise<EmbedResult> {
      const output = await run(request.model, { text: request.texts }, meta, request.signal);
      const data = isRecord(output) ? output.data : undefined;
      const vectors = readVectors(data, request.model, request.texts.length);
      const width = vectors[0]?.length;
      if (request.dimensions !== undefined && width !== request.dimensions) {
        // Workers AI's embedding models have one width each; nothing in the input changes it.
        throw new AiError(
          "unsupported",
          `dimensions: ${request.model} produces ${width}-dimensional vectors, not ${request.dimensions}`,
        );
      }
      return {
        vectors,
        model: request.model,
        usage: { promptTokens: request.texts.reduce((sum, text) => sum + estimateTokens(text), 0) },
      };
    },

    async speech(request: SpeechRequest, meta: CallMeta): Promise<SpeechResult> {
      const call = speechCall(request);
      const output = await run(request.model, call.input, meta, request.signal, call.options);
      const { audio, contentType } = await speechAudio(request.model, output, call.contentType);
      return { audio, contentType, model: request.model, characters: request.input.length };
    },
  };
}

/** The `gateway` run option: tenant and request ids first, then caller metadata, ≤ 5 keys. */
export function gatewayOption(meta: CallMeta): {
  id: string;
  metadata: Record<string, string | number | boolean>;
} {
  const metadata: Record<string, string | number | boolean> = {
    tenantId: meta.tenantId,
    requestId: meta.requestId,
  };
  for (const [key, value] of Object.entries(meta.metadata ?? {})) {
    if (Object.keys(metadata).length >= MAX_GATEWAY_METADATA_KEYS) break;
    if (!(key in metadata)) metadata[key] = value;
  }
  return { id: meta.gatewayId, metadata };
}

/** Whether the answer must be asked for whole (tools offered, or JSON mode), even when streaming. */
function answersWhole(request: ChatRequest): boolean {
  const format = request.responseFormat?.type;
  return offeredTools(request).length > 0 || format === "json_object" || format === "json_schema";
}

/** The tools sent: none for "none", only the named one for a named choice, else all. */
function toolsSent(request: ChatRequest): readonly ToolSpec[] {
  const tools = offeredTools(request);
  const choice = request.toolChoice;
  return typeof choice === "object" ? tools.filter((tool) => tool.name === choice.name) : tools;
}

function chatInput(request: ChatRequest, messages: readonly ChatMessage[], stream: boolean): Record<string, unknown> {
  const input: Record<string, unknown> = {
    messages: wireMessages(messages, { emptyAssistantContent: "", nameToolResults: true }),
    stream,
  };
  if (request.maxTokens !== undefined) input.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) input.temperature = request.temperature;
  const sampling = request.sampling;
  if (sampling?.topP !== undefined) input.top_p = sampling.topP;
  if (sampling?.seed !== undefined) input.seed = sampling.seed;
  if (sampling?.frequencyPenalty !== undefined) input.frequency_penalty = sampling.frequencyPenalty;
  if (sampling?.presencePenalty !== undefined) input.presence_penalty = sampling.presencePenalty;
  const tools = toolsSent(request);
  if (tools.length > 0) input.tools = wireTools(tools, { requireDescription: true, dropStrict: true });
  const format = request.responseFormat;
  if (format?.type === "json_object") input.response_format = { type: "json_object" };
  if (format?.type === "json_schema") input.response_format = { type: "json_schema", json_schema: format.schema };
  return input;
}

/** A non-stream answer: text (cut at a stop sequence), tool calls in either shape, usage, finish. */
function readAnswer(request: ChatRequest, messages: readonly ChatMessage[], output: unknown): ChatResult {
  let calls = readToolCalls(toolCallsOf(output), request.model, (index, name) =>
    toolCallId(messages.length, index, name),
  );
  if (request.parallelToolCalls === false) calls = calls.slice(0, 1);
  const raw = textOf(output);
  if (raw === undefined && calls.length === 0) throw badResponse(`${request.model} returned no text`);
  const { text, stopped } = cutAtStop(raw ?? "", request.stop);
  const reason = isRecord(output) ? finishReasonOf(output) : undefined;
  // A completion cut at "length" carries incomplete calls: report the cut, not the calls.
  const toolCalls = reason === "length" ? [] : calls;
  const usage = usageOf(output) ?? estimateUsage(estimateRequestTokens(messages, toolsSent(request)), text, toolCalls);
  const finishReason: FinishReason =
    toolCalls.length > 0 ? "tool_calls" : stopped ? "stop" : decideFinish(reason, usage, request.maxTokens);
  return {
    text,
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
    usage,
    model: request.model,
    finishReason,
  };
}

/** The answer's tool calls: Workers AI's top-level `tool_calls`, else OpenAI's `choices[0].message.tool_calls`. */
function toolCallsOf(output: unknown): unknown {
  if (!isRecord(output)) return undefined;
  if (Array.isArray(output.tool_calls) && output.tool_calls.length > 0) return output.tool_calls;
  const message = firstChoice(output)?.message;
  return isRecord(message) ? message.tool_calls : undefined;
}

function bindingError(model: string, error: unknown, signal: AbortSignal | undefined): AiError {
  const thrown = fromThrown(error, signal);
  if (thrown.code === "aborted" || error instanceof AiError) return thrown;
  const message = messageOf(error);
  const code = internalCodeOf(error, message);
  const status = code === undefined ? undefined : STATUS_OF_CODE[code];
  if (status !== undefined) return errorFromStatus(status, `${model}: ${message}`);
  // No documented code: an upstream or network failure inside the binding — worth another try.
  return new AiError("ai_unavailable", `${model}: ${message}`, undefined, true);
}

function internalCodeOf(error: unknown, message: string): number | undefined {
  const property = isRecord(error) ? Number(error.code) : Number.NaN;
  if (Number.isInteger(property) && property in STATUS_OF_CODE) return property;
  const match = /\b(\d{4})\s*:/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** The text piece of one stream event: `response`, or an OpenAI-style `choices[0].delta.content`. */
function pieceOf(chunk: Record<string, unknown>): string | undefined {
  if (typeof chunk.response === "string") return chunk.response;
  if (typeof chunk.response === "number") return String(chunk.response);
  const content = firstChoice(chunk)?.delta;
  return isRecord(content) && typeof content.content === "string" ? content.content : undefined;
}

/** The answer's text: `response` (an object in JSON mode, as its JSON), or `choices[0].message.content`. */
function textOf(output: unknown): string | undefined {
  if (typeof output === "string") return output;
  if (!isRecord(output)) return undefined;
  if (typeof output.response === "string") return output.response;
  if (typeof output.response === "number") return String(output.response);
  if (isRecord(output.response)) return JSON.stringify(output.response);
  const message = firstChoice(output)?.message;
  return isRecord(message) && typeof message.content === "string" ? message.content : undefined;
}

/** Workers AI gives no finish reason for most models: a completion that used all of `maxTokens` was cut. */
function decideFinish(reason: string | undefined, usage: Usage, maxTokens: number | undefined): "stop" | "length" {
  if (reason !== undefined) return reason === "length" ? "length" : "stop";
  return maxTokens !== undefined && usage.completionTokens >= maxTokens ? "length" : "stop";
}
