/**
 * The OpenAI-style chat stream both remote providers speak, read from its bytes in one generator
 * (one layer between the network and the turn, not one per concern). eventsource-parser does the
 * line handling and a streaming TextDecoder joins bytes, so events split mid-line or
 * mid-UTF-8-character across reads come out whole. Stopping early (the consumer's `return()`, an
 * error, a stop sequence, or `signal` aborting) cancels the byte stream, which cancels the
 * upstream request.
 */
import { createParser } from "eventsource-parser";
import { abortedError } from "./abort";
import { badResponse, fromThrown, streamError } from "./errors";
import { finishReasonOf, parseObject, type ToolCallDelta, usageOf } from "./json";
import { createStopScanner } from "./stop";
import { AiError, type ChatStreamEvent, type FinishReason, type ToolCall, type Usage } from "./types";

/** How a provider reads its own chunks: the text piece of one chunk, and the finish reason at the end. */
export interface ChunkDialect {
  /** The model named in error messages. */
  model: string;
  /** The text piece one parsed chunk carries, if any. */
  pieceOf(chunk: Record<string, unknown>): string | undefined;
  /** The tool-call fragments one parsed chunk carries, if any (OpenAI's `delta.tool_calls`). */
  toolCallDeltasOf?(chunk: Record<string, unknown>): ToolCallDelta[] | undefined;
  /** The id of a call whose fragments carried none (`index` is its index in the answer). */
  callId?(index: number, name: string): string;
  /** Stop sequences to apply here, for an upstream that does not take `stop` itself. */
  stop?: readonly string[];
  /** The usage when the upstream reported none (estimated from the prompt, the text and the calls). */
  estimate(text: string, calls: readonly ToolCall[]): Usage;
  /** The finish reason to report, from the upstream's own reason (if it sent one) and the usage. */
  finish(reason: string | undefined, usage: Usage): "stop" | "length";
}

/**
 * The OpenAI-style chat stream both remote providers speak (`data: {…}` chunks, an optional
 * usage chunk, `data: [DONE]`), read as `ChatStreamEvent`s: a `token` with the text of the chunks
 * that arrived in one read of the stream (a chunk's pieces are never held back for a later read:
 * what came together leaves together, so a burst costs one event, not one per chunk — except the
 * few characters a `stop` scan holds back while they could still begin a stop sequence), then
 * one `tool_call` per whole call, then `usage` (the upstream's, else estimated) and `done`.
 *
 * Tool calls arrive as fragments accumulated by `index` (id and name first, the arguments' JSON in
 * pieces); they go out whole, in index order, when the chunk with the finish reason has been read
 * (or at the end of the stream), and `done` then says "tool_calls". An answer cut at "length"
 * carries incomplete calls: they are dropped and `done` says "length". A stop sequence ends the
 * answer before it (finish "stop", no tool calls, the upstream stream cancelled). A
 * `data: {"error": …}` chunk is a transient failure; a stream that ends with neither `[DONE]` nor
 * a finish reason was cut off.
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
  let stopped = false;
  const fragments = new Map<number, { id?: string; name?: string; arguments: string }>();
  let calls: ToolCall[] | undefined;
  const scanner = createStopScanner(dialect.stop);
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let batch: string[] = [];
  const parser = createParser({ onEvent: (event) => batch.push(event.data) });
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let drained = false;

  /** The accumulated calls, whole, once the answer is complete (none when it was cut at length). */
  const completeCalls = (): ToolCall[] => {
    if (reason === "length") return [];
    return [...fragments.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call], position) => {
        if (!call.name) throw badResponse(`${dialect.model} streamed a tool call without a name`);
        const id = call.id ?? dialect.callId?.(position, call.name) ?? `call_${index}`;
        return { id, name: call.name, arguments: call.arguments.trim() === "" ? "{}" : call.arguments };
      });
  };

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
        for (const delta of dialect.toolCallDeltasOf?.(chunk) ?? []) {
          const call = fragments.get(delta.index) ?? { arguments: "" };
          if (delta.id !== undefined) call.id = delta.id;
          if (delta.name !== undefined) call.name = delta.name;
          if (delta.arguments !== undefined) call.arguments += delta.arguments;
          fragments.set(delta.index, call);
        }
        usage = usageOf(chunk) ?? usage;
        reason = finishReasonOf(chunk) ?? reason;
      }
      // The text before a failure or [DONE] in the same read still goes out, then the stream stops.
      if (pieces) {
        const scanned = scanner.push(pieces);
        stopped = scanned.stopped;
        if (scanned.text) {
          text += scanned.text;
          yield { type: "token", text: scanned.text };
        }
        if (stopped) break;
      }
      if (failure !== undefined) throw failure;
      if (reason !== undefined && calls === undefined && fragments.size > 0) {
        // The answer is complete: its text first (what a stop scan still held), then its calls.
        yield* flushHeld();
        calls = completeCalls();
        for (const call of calls) yield { type: "tool_call", call };
      }
    }
  } catch (error) {
    throw fromThrown(error, signal);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!drained) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  if (!stopped) {
    if (!sawDone && reason === undefined) {
      throw new AiError("ai_unavailable", `${dialect.model} stream ended before [DONE]`, undefined, true);
    }
    yield* flushHeld();
    if (calls === undefined) {
      calls = completeCalls();
      for (const call of calls) yield { type: "tool_call", call };
    }
  }
  const made = calls ?? [];
  const finalUsage = usage ?? dialect.estimate(text, made);
  const finishReason: FinishReason = stopped
    ? "stop"
    : made.length > 0
      ? "tool_calls"
      : dialect.finish(reason, finalUsage);
  yield { type: "usage", usage: finalUsage };
  yield { type: "done", finishReason };

  function* flushHeld(): Generator<ChatStreamEvent> {
    const held = scanner.flush();
    if (held) {
      text += held;
      yield { type: "token", text: held };
    }
  }
}
