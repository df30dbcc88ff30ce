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
import { estimatePromptTokens, estimateTokens, estimateUsage } from "../tokens";
import {
  AiError,
  type AiProvider,
  type CallMeta,
  type ChatRequest,
  type ChatResult,
  type ChatStreamEvent,
  type EmbedRequest,
  type EmbedResult,
  type Usage,
} from "../types";

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

  async function run(model: string, input: unknown, meta: CallMeta, signal?: AbortSignal) {
    throwIfAborted(signal);
    const runOptions: Record<string, unknown> = { gateway: gatewayOption(meta) };
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
      const messages = withContext(request.messages, request.context);
      const output = await run(request.model, chatInput(request, messages, false), meta, request.signal);
      const text = textOf(output);
      if (text === undefined) throw badResponse(`${request.model} returned no text`);
      const usage = usageOf(output) ?? estimateUsage(estimatePromptTokens(messages), text);
      const reason = isRecord(output) ? finishReasonOf(output) : undefined;
      return {
        text,
        usage,
        model: request.model,
        finishReason: decideFinish(reason, usage, request.maxTokens),
      };
    },

    async *chatStream(request: ChatRequest, meta: CallMeta): AsyncGenerator<ChatStreamEvent> {
      const messages = withContext(request.messages, request.context);
      const output = await run(request.model, chatInput(request, messages, true), meta, request.signal);
      if (!(output instanceof ReadableStream)) {
        throw badResponse(`${request.model} did not return a stream for stream: true`);
      }
      yield* chatStreamEvents(
        output,
        {
          model: request.model,
          pieceOf,
          estimate: (text) => estimateUsage(estimatePromptTokens(messages), text),
          finish: (reason, usage) => decideFinish(reason, usage, request.maxTokens),
        },
        request.signal,
      );
    },

    async embed(request: EmbedRequest, meta: CallMeta): Promise<EmbedResult> {
      const output = await run(request.model, { text: request.texts }, meta, request.signal);
      const data = isRecord(output) ? output.data : undefined;
      return {
        vectors: readVectors(data, request.model, request.texts.length, request.dimensions),
        model: request.model,
        usage: { promptTokens: request.texts.reduce((sum, text) => sum + estimateTokens(text), 0) },
      };
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

function chatInput(request: ChatRequest, messages: unknown, stream: boolean): Record<string, unknown> {
  const input: Record<string, unknown> = { messages, stream };
  if (request.maxTokens !== undefined) input.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) input.temperature = request.temperature;
  return input;
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

function textOf(output: unknown): string | undefined {
  if (typeof output === "string") return output;
  if (!isRecord(output)) return undefined;
  if (typeof output.response === "string") return output.response;
  if (typeof output.response === "number") return String(output.response);
  const message = firstChoice(output)?.message;
  return isRecord(message) && typeof message.content === "string" ? message.content : undefined;
}

/** Workers AI gives no finish reason for most models: a completion that used all of `maxTokens` was cut. */
function decideFinish(reason: string | undefined, usage: Usage, maxTokens: number | undefined): "stop" | "length" {
  if (reason !== undefined) return reason === "length" ? "length" : "stop";
  return maxTokens !== undefined && usage.completionTokens >= maxTokens ? "length" : "stop";
}
