/**
 * The SSE body of a streamed turn, in one of two dialects:
 * - "events" (the platform's): every event has `id: <n>` (1, 2, …); `event: token` with
 *   `{"token"}`; in a tool loop `event: tool_call` with `{id, name, arguments}` and
 *   `event: tool_result` with `{id, name, status, output, truncated, durationMs, executionId}`;
 *   then `event: done` with `{turnId, sessionId, model, usage, timings?}` (`timings`: the turn's
 *   spans in ms — model, ttft, tool; docs/observability.md), or `event: error` with `{code, message}`.
 * - "openai": `chat.completion.chunk` objects (a role chunk once the model is known, one chunk per
 *   token, for each client-side tool call a chunk with its `tool_calls[i]` id/type/name and empty
 *   arguments then one with the arguments, a final chunk with `finish_reason` ("tool_calls" after
 *   tool calls), an optional usage chunk (`choices: []`), then
 *   `data: [DONE]`; a failure is `data: {"error": {message, type, code}}` and no [DONE]. Every
 *   chunk stays exactly OpenAI-shaped: this dialect carries no timings.
 *
 * The bytes go through the kit's SseWriter: a frame is written at once (frames written while the
 * reader is still taking the last write go out together as one write),
 * `: keep-alive` comments go out whenever HEARTBEAT_MS passes without a write (while queued behind
 * another turn, or waiting for a first token), and a reader that went away is reported once to
 * `onCancel` (which aborts the model call), noticed at the next token or heartbeat.
 */
import type { FinishReason, ToolCall } from "@crispy/ai";
import type { ErrorCode, SearchSource, StreamFormat, TokenUsage } from "@crispy/contracts";
import type { SpanTimings } from "@crispy/observability";
import { SseWriter, sseFrame } from "@crispy/worker-kit";
import type { ToolResult } from "./turn";

export interface TurnSummary {
  turnId: string;
  /** Null for a stateless completion that records into no session. */
  sessionId: string | null;
  model: string;
  usage: TokenUsage;
  finishReason: FinishReason;
  /** The sources of a RAG turn (also sent in the `sources` event before the first token). */
  sources?: SearchSource[];
  /** The turn's spans (else those reported to the stream as an observer). */
  timings?: SpanTimings;
}

/** Receives a running turn's progress: the model that answers (once), then tokens and tool calls. */
export interface TurnObserver {
  /** The retrieved sources of a RAG turn, before the first token. */
  sources(sources: SearchSource[]): void;
  model(model: string): void;
  token(text: string): void;
  /** A call the model made: run by the platform (`serverSide`), or returned to the client. */
  toolCall(call: ToolCall, serverSide: boolean): void;
  /** The result of a server-side call, before the model's next call. */
  toolResult(result: ToolResult): void;
  /** The finished turn's spans, before it commits. */
  timings?(timings: SpanTimings): void;
}

/** Formats a turn's events into SSE frames. */
interface Dialect {
  sources(sources: SearchSource[]): string;
  model(model: string): string;
  token(text: string): string;
  toolCall(call: ToolCall, serverSide: boolean): string;
  toolResult(result: ToolResult): string;
  done(summary: TurnSummary): string;
  error(code: ErrorCode, message: string): string;
}

function eventsDialect(): Dialect {
  let id = 0;
  const event = (name: string, data: unknown): string => sseFrame(data, name, ++id);
  return {
    sources: (sources) => event("sources", { sources }),
    model: () => "",
    token: (token) => event("token", { token }),
    toolCall: (call) => event("tool_call", { id: call.id, name: call.name, arguments: call.arguments }),
    toolResult: (result) =>
      event("tool_result", {
        id: result.call.id,
        name: result.call.name,
        status: result.status,
        output: result.output,
        truncated: result.truncated,
        durationMs: result.durationMs,
        executionId: result.executionId,
      }),
    done: ({ turnId, sessionId, model, usage, sources, timings }) =>
      event("done", {
        turnId,
        sessionId,
        model,
        usage,
        ...(sources ? { sources } : {}),
        ...(timings ? { timings } : {}),
      }),
    error: (code, message) => event("error", { code, message }),
  };
}

export interface OpenAiStreamOptions {
  /** The completion id shared by every chunk (`chatcmpl-…`). */
  id: string;
  /** Unix seconds. */
  created: number;
  /** Send the usage chunk before [DONE] (OpenAI's `stream_options.include_usage`). */
  includeUsage: boolean;
}

function openAiDialect({ id, created, includeUsage }: OpenAiStreamOptions): Dialect {
  let model: string | null = null;
  const data = (value: unknown): string => sseFrame(value);
  const chunk = (delta: object, finishReason: string | null, name: string): string =>
    data({
      id,
      object: "chat.completion.chunk",
      created,
      model: name,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
  // A token's chunk is the same bytes as chunk({ content }, null, model), built from a prefix and
  // suffix made once per stream: only the text is serialised per token.
  let tokenPrefix = "";
  const tokenSuffix = '},"finish_reason":null}]}\n\n';
  const role = (name: string): string => {
    model = name;
    const head = JSON.stringify({ id, object: "chat.completion.chunk", created, model: name });
    tokenPrefix = `data: ${head.slice(0, -1)},"choices":[{"index":0,"delta":{"content":`;
    return chunk({ role: "assistant", content: "" }, null, name);
  };
  let toolIndex = 0;
  return {
    // OpenAI's chunk format has no place for sources, nor for the tools the platform runs itself.
    sources: () => "",
    model: (name) => (model === null ? role(name) : ""),
    token: (text) => (model === null ? role("unknown") : "") + tokenPrefix + JSON.stringify(text) + tokenSuffix,
    // OpenAI's shape: the call's id, type and name with empty arguments, then the arguments.
    toolCall: (call, serverSide) => {
      if (serverSide) return "";
      const index = toolIndex++;
      const name = model ?? "unknown";
      const head = model === null ? role(name) : "";
      return (
        head +
        chunk(
          { tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] },
          null,
          name,
        ) +
        chunk({ tool_calls: [{ index, function: { arguments: call.arguments } }] }, null, name)
      );
    },
    toolResult: () => "",
    done: ({ model: name, usage, finishReason }) => {
      let out = chunk({}, finishReason, name);
      if (includeUsage) {
        out += data({
          id,
          object: "chat.completion.chunk",
          created,
          model: name,
          choices: [],
          usage: {
            prompt_tokens: usage.promptTokens,
            completion_tokens: usage.completionTokens,
            total_tokens: usage.totalTokens,
          },
        });
      }
      return `${out}data: [DONE]\n\n`;
    },
    error: (code, message) => data({ error: { message, type: "server_error", code } }),
  };
}

export interface SseOptions {
  heartbeatMs: number;
  /** Called once when the reader is found gone (cancelled or disconnected) before the end. */
  onCancel: () => void;
  openai?: OpenAiStreamOptions;
}

/** A turn's SSE body; the turn reports to it as a TurnObserver, then ends it with done or error. */
export class SseStream implements TurnObserver {
  readonly #dialect: Dialect;
  readonly #writer: SseWriter;
  #timings: SpanTimings | undefined;

  constructor(format: StreamFormat, options: SseOptions) {
    this.#dialect =
      format === "openai"
        ? openAiDialect(options.openai ?? { id: "chatcmpl-unknown", created: 0, includeUsage: true })
        : eventsDialect();
    this.#writer = new SseWriter({ heartbeatMs: options.heartbeatMs, onCancel: options.onCancel });
  }

  get body(): ReadableStream<Uint8Array> {
    return this.#writer.body;
  }

  sources(sources: SearchSource[]): void {
    this.#writer.write(this.#dialect.sources(sources));
  }

  model(model: string): void {
    this.#writer.write(this.#dialect.model(model));
  }

  token(text: string): void {
    this.#writer.write(this.#dialect.token(text));
  }

  toolCall(call: ToolCall, serverSide: boolean): void {
    this.#writer.write(this.#dialect.toolCall(call, serverSide));
  }

  toolResult(result: ToolResult): void {
    this.#writer.write(this.#dialect.toolResult(result));
  }

  timings(timings: SpanTimings): void {
    this.#timings = timings;
  }

  /** Ends the stream after a committed turn. */
  done(summary: TurnSummary): void {
    const timings = summary.timings ?? this.#timings;
    this.#writer.end(this.#dialect.done(timings ? { ...summary, timings } : summary));
  }

  /** Ends the stream after a failed turn (nothing was committed). */
  error(code: ErrorCode, message: string): void {
    this.#writer.end(this.#dialect.error(code, message));
  }
}
