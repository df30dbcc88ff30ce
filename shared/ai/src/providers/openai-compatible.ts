/**
 * Provider for any OpenAI-style endpoint (AI Gateway's compat endpoint, OpenAI, Ollama, vLLM):
 * POST `${baseUrl}/chat/completions`, `${baseUrl}/embeddings` and `${baseUrl}/audio/speech` with a
 * Bearer key when one is set. Speech is a passthrough: the body as OpenAI takes it (`model`,
 * `input`, `voice`, and `response_format`, `speed`, `instructions` only when given, so the
 * upstream's defaults apply), the audio bytes streamed back as they arrive with the upstream's
 * content type (or the format's usual one when it sends none); the upstream refuses what it cannot do.
 *
 * Every request option goes through natively, under OpenAI's names: `tools` (as
 * `{ type: "function", function: { name, description, parameters, strict } }`), `tool_choice`,
 * `parallel_tool_calls` (these three only when tools are offered, as OpenAI requires),
 * `response_format` (json_schema as `{ type, json_schema: { name, schema, strict, description } }`),
 * `stop`, `top_p`, `seed`, `frequency_penalty`, `presence_penalty`. Assistant messages with tool
 * calls are sent with `tool_calls` (and `content: null` when they have no text), tool results as
 * `{ role: "tool", tool_call_id, content }`.
 *
 * Streams ask for `stream_options: { include_usage: true }`, so the wire is: a role chunk, content
 * chunks (`choices[0].delta.content`) or tool-call fragments (`choices[0].delta.tool_calls[]`,
 * joined by index into whole calls), a chunk with `finish_reason`, a usage chunk with empty
 * `choices`, then `data: [DONE]`. A non-stream answer's `message.content` may be null beside
 * `message.tool_calls`. An answer with tool calls finishes "tool_calls". Usage is estimated when
 * an upstream sends none (older servers); calls without an id get a stable one (`toolCallId`).
 * HTTP 408/429/5xx and network failures are retryable `ai_unavailable`; other statuses are not.
 * The caller's `signal` goes to `fetch`, so aborting (or cancelling the stream) ends the request.
 */
import { throwIfAborted } from "../abort";
import { badResponse, errorFromStatus, fromThrown } from "../errors";
import { finishReasonOf, firstChoice, isRecord, parseObject, readVectors, toolCallDeltasOf, usageOf } from "../json";
import { withContext } from "../prompt";
import { chatStreamEvents } from "../sse";
import { estimateRequestTokens, estimateTokens, estimateUsage } from "../tokens";
import { checkToolChoice, readToolCalls, toolCallId, wireMessages, wireToolChoice, wireTools } from "../tool-wire";
import type {
  AiProvider,
  CallMeta,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  EmbedRequest,
  EmbedResult,
  FinishReason,
  SpeechFormat,
  SpeechRequest,
  SpeechResult,
} from "../types";

/** The subset of `fetch` this provider needs (tests pass a fake). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface OpenAiCompatibleOptions {
  /** e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`; a trailing slash is ignored. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; optional because local servers (Ollama, vLLM) need none. */
  apiKey?: string;
  fetch?: FetchLike;
}

export function createOpenAiCompatibleProvider(options: OpenAiCompatibleOptions): AiProvider {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));

  async function post(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
    throwIfAborted(signal);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    let response: Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw fromThrown(error, signal);
    }
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      throw errorFromStatus(response.status, errorMessageOf(detail));
    }
    return response;
  }

  async function readJson(response: Response, signal?: AbortSignal): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw fromThrown(error, signal);
    }
    return parseObject(text);
  }

  return {
    name: "openai-compatible",

    async chat(request: ChatRequest, _meta: CallMeta): Promise<ChatResult> {
      checkToolChoice(request);
      const messages = withContext(request.messages, request.context);
      const response = await post("/chat/completions", chatBody(request, messages, false), request.signal);
      const output = await readJson(response, request.signal);
      const message = firstChoice(output)?.message;
      const reason = finishReasonOf(output);
      const calls = isRecord(message)
        ? readToolCalls(message.tool_calls, request.model, (index, name) => toolCallId(messages.length, index, name))
        : [];
      const content = isRecord(message) ? message.content : undefined;
      if (typeof content !== "string" && calls.length === 0) {
        throw badResponse(`${request.model} returned no message content`);
      }
      const text = typeof content === "string" ? content : "";
      // A completion cut at "length" carries incomplete calls: report the cut, not the calls.
      const toolCalls = reason === "length" ? [] : calls;
      const finishReason: FinishReason = toolCalls.length > 0 ? "tool_calls" : reason === "length" ? "length" : "stop";
      return {
        text,
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        usage: usageOf(output) ?? estimateUsage(estimateRequestTokens(messages, request.tools), text, toolCalls),
        model: request.model,
        finishReason,
      };
    },

    async *chatStream(request: ChatRequest, _meta: CallMeta): AsyncGenerator<ChatStreamEvent> {
      checkToolChoice(request);
      const messages = withContext(request.messages, request.context);
      const response = await post("/chat/completions", chatBody(request, messages, true), request.signal);
      if (!response.body) throw badResponse(`${request.model} sent no stream body`);
      yield* chatStreamEvents(
        response.body,
        {
          model: request.model,
          pieceOf: (chunk) => {
            const delta = firstChoice(chunk)?.delta;
            return isRecord(delta) && typeof delta.content === "string" ? delta.content : undefined;
          },
          toolCallDeltasOf,
          callId: (index, name) => toolCallId(messages.length, index, name),
          estimate: (text, calls) => estimateUsage(estimateRequestTokens(messages, request.tools), text, calls),
          finish: (reason) => (reason === "length" ? "length" : "stop"),
        },
        request.signal,
      );
    },

    async embed(request: EmbedRequest, _meta: CallMeta): Promise<EmbedResult> {
      const body: Record<string, unknown> = { model: request.model, input: request.texts };
      if (request.dimensions !== undefined) body.dimensions = request.dimensions;
      const output = await readJson(await post("/embeddings", body, request.signal), request.signal);
      const rows = Array.isArray(output.data) ? [...output.data] : [];
      // The spec returns rows with an `index`; order by it rather than trusting arrival order.
      rows.sort((a: unknown, b: unknown) => indexOf(a) - indexOf(b));
      const vectors = rows.map((row: unknown) => (isRecord(row) ? row.embedding : undefined));
      return {
        vectors: readVectors(vectors, request.model, request.texts.length, request.dimensions),
        model: request.model,
        usage: {
          promptTokens:
            usageOf(output)?.promptTokens ?? request.texts.reduce((sum, text) => sum + estimateTokens(text), 0),
        },
      };
    },

    async speech(request: SpeechRequest, _meta: CallMeta): Promise<SpeechResult> {
      const body: Record<string, unknown> = { model: request.model, input: request.input, voice: request.voice };
      if (request.format !== undefined) body.response_format = request.format;
      if (request.speed !== undefined) body.speed = request.speed;
      if (request.instructions !== undefined) body.instructions = request.instructions;
      const response = await post("/audio/speech", body, request.signal);
      if (!response.body) throw badResponse(`${request.model} sent no audio`);
      const type = response.headers.get("content-type");
      return {
        audio: response.body,
        contentType: type?.startsWith("audio/") ? type : SPEECH_CONTENT_TYPES[request.format ?? "mp3"],
        model: request.model,
        characters: request.input.length,
      };
    },
  };
}

/** The usual content type of each speech format (when an upstream names none). */
const SPEECH_CONTENT_TYPES: Readonly<Record<SpeechFormat, string>> = {
  mp3: "audio/mpeg",
  opus: "audio/ogg",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm",
};

/** The `/chat/completions` body: every ChatRequest field under its OpenAI name (unset fields are left out). */
function chatBody(request: ChatRequest, messages: readonly ChatMessage[], stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: wireMessages(messages, { emptyAssistantContent: null }),
    stream,
  };
  if (stream) body.stream_options = { include_usage: true };
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  const sampling = request.sampling;
  if (sampling?.topP !== undefined) body.top_p = sampling.topP;
  if (sampling?.seed !== undefined) body.seed = sampling.seed;
  if (sampling?.frequencyPenalty !== undefined) body.frequency_penalty = sampling.frequencyPenalty;
  if (sampling?.presencePenalty !== undefined) body.presence_penalty = sampling.presencePenalty;
  if (request.stop?.length) body.stop = request.stop;
  if (request.tools?.length) {
    body.tools = wireTools(request.tools);
    if (request.toolChoice !== undefined) body.tool_choice = wireToolChoice(request.toolChoice);
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  const format = request.responseFormat;
  if (format?.type === "json_schema") {
    const schema: Record<string, unknown> = { name: format.name, schema: format.schema };
    if (format.strict !== undefined) schema.strict = format.strict;
    if (format.description !== undefined) schema.description = format.description;
    body.response_format = { type: "json_schema", json_schema: schema };
  } else if (format) {
    body.response_format = { type: format.type };
  }
  return body;
}

/** `{"error":{"message":…}}` bodies (OpenAI and most compatibles) give their message; else the text. */
function errorMessageOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && isRecord(parsed.error) && typeof parsed.error.message === "string") {
      return parsed.error.message;
    }
  } catch {
    // not JSON: use the raw text
  }
  return body;
}

function indexOf(row: unknown): number {
  return isRecord(row) && typeof row.index === "number" ? row.index : 0;
}
