/**
 * Reads a server-sent-events byte stream as the `data` payloads of its events. eventsource-parser
 * does the line handling and a streaming TextDecoder joins bytes, so events split mid-line or
 * mid-UTF-8-character across reads come out whole. Stopping early (the consumer's `return()`, an
 * error, or `signal` aborting) cancels the byte stream, which cancels the upstream request.
 */
import { createParser } from "eventsource-parser";
import { abortedError } from "./abort";
import { fromThrown, streamError } from "./errors";
import { finishReasonOf, parseObject, usageOf } from "./json";
import { AiError, type ChatStreamEvent, type Usage } from "./types";

export async function* sseData(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const pending: string[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event.data) });
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let drained = false;
  try {
    for (;;) {
      if (signal?.aborted) throw abortedError();
      const { done, value } = await reader.read();
      if (signal?.aborted) throw abortedError();
      if (done) {
        drained = true;
        // Flush a final event the upstream did not terminate with a blank line.
        parser.feed(`${decoder.decode()}\n\n`);
      } else {
        parser.feed(decoder.decode(value, { stream: true }));
      }
      while (pending.length > 0) yield pending.shift() as string;
      if (drained) return;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!drained) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** How a provider reads its own chunks: the text piece of one chunk, and the finish reason at the end. */
export interface ChunkDialect {
  /** The model named in error messages. */
  model: string;
  /** The text piece one parsed chunk carries, if any. */
  pieceOf(chunk: Record<string, unknown>): string | undefined;
  /** The usage when the upstream reported none (estimated from the prompt and the text). */
  estimate(text: string): Usage;
  /** The finish reason to report, from the upstream's own reason (if it sent one) and the usage. */
  finish(reason: string | undefined, usage: Usage): "stop" | "length";
}

/**
 * The OpenAI-style chat stream both remote providers speak (`data: {…}` chunks, an optional
 * usage chunk, `data: [DONE]`), read as `ChatStreamEvent`s: a `token` per non-empty piece, then
 * `usage` (the upstream's, else estimated) and `done`. A `data: {"error": …}` chunk is a
 * transient failure; a stream that ends with neither `[DONE]` nor a finish reason was cut off.
 */
export async function* chatStreamEvents(
  body: ReadableStream<Uint8Array>,
  dialect: ChunkDialect,
  signal: AbortSignal | undefined,
): AsyncGenerator<ChatStreamEvent> {
  let text = "";
  let usage: Usage | undefined;
  let reason: string | undefined;
  let sawDone = false;
  try {
    for await (const data of sseData(body, signal)) {
      if (data === "[DONE]") {
        sawDone = true;
        break;
      }
      const chunk = parseObject(data);
      if (chunk.error !== undefined && chunk.error !== null) throw streamError(dialect.model, chunk.error);
      const piece = dialect.pieceOf(chunk);
      if (piece) {
        text += piece;
        yield { type: "token", text: piece };
      }
      usage = usageOf(chunk) ?? usage;
      reason = finishReasonOf(chunk) ?? reason;
    }
  } catch (error) {
    throw fromThrown(error, signal);
  }
  if (!sawDone && reason === undefined) {
    throw new AiError("ai_unavailable", `${dialect.model} stream ended before [DONE]`, undefined, true);
  }
  const finalUsage = usage ?? dialect.estimate(text);
  yield { type: "usage", usage: finalUsage };
  yield { type: "done", finishReason: dialect.finish(reason, finalUsage) };
}
