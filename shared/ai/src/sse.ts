/**
 * Reads a server-sent-events byte stream as the `data` payloads of its events. eventsource-parser
 * does the line handling and a streaming TextDecoder joins bytes, so events split mid-line or
 * mid-UTF-8-character across reads come out whole. Stopping early (the consumer's `return()`, an
 * error, or `signal` aborting) cancels the byte stream, which cancels the upstream request.
 */
import { createParser } from "eventsource-parser";
import { abortedError } from "./abort";

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
