/**
 * The OpenAI-style chat stream both remote providers speak, read from its bytes in one generator
 * (one layer between the network and the turn, not one per concern). eventsource-parser does the
 * line handling and a streaming TextDecoder joins bytes, so events split mid-line or
 * mid-UTF-8-character across reads come out whole. Stopping early (the consumer's `return()`, an
 * error, or `signal` aborting) cancels the byte stream, which cancels the upstream request.
 */
import { createParser } from "eventsource-parser";
import { abortedError } from "./abort";
import { fromThrown, streamError } from "./errors";
import { finishReasonOf, parseObject, usageOf } from "./json";
import { AiError, type ChatStreamEvent, type Usage } from "./types";

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
 * usage chunk, `data: [DONE]`), read as `ChatStreamEvent`s: a `token` with the text of the chunks
 * that arrived in one read of the stream (a chunk's pieces are never held back for a later read:
 * what came together leaves together, so a burst costs one event, not one per chunk), then
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
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let batch: string[] = [];
  const parser = createParser({ onEvent: (event) => batch.push(event.data) });
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let drained = false;
  try {
    while (!drained && !sawDone) {
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
      if (batch.length === 0) continue;
      const events = batch;
      batch = [];
      let pieces = "";
      let failure: unknown;
      for (const data of events) {
        if (data === "[DONE]") {
          sawDone = true;
          break;
        }
        let chunk: Record<string, unknown>;
        try {
          chunk = parseObject(data);
        } catch (error) {
          failure = error;
          break;
        }
        if (chunk.error !== undefined && chunk.error !== null) {
          failure = streamError(dialect.model, chunk.error);
          break;
        }
        const piece = dialect.pieceOf(chunk);
        if (piece) pieces += piece;
        usage = usageOf(chunk) ?? usage;
        reason = finishReasonOf(chunk) ?? reason;
      }
      // The text before a failure or [DONE] in the same read still goes out, then the stream stops.
      if (pieces) {
        text += pieces;
        yield { type: "token", text: pieces };
      }
      if (failure !== undefined) throw failure;
    }
  } catch (error) {
    throw fromThrown(error, signal);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!drained) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (!sawDone && reason === undefined) {
    throw new AiError("ai_unavailable", `${dialect.model} stream ended before [DONE]`, undefined, true);
  }
  const finalUsage = usage ?? dialect.estimate(text);
  yield { type: "usage", usage: finalUsage };
  yield { type: "done", finishReason: dialect.finish(reason, finalUsage) };
}
