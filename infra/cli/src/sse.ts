/**
 * Reads a `text/event-stream` body as it arrives (eventsource-parser), yielding each event with its
 * JSON data parsed. Comment lines (`: keep-alive`) are dropped by the parser.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface StreamEvent {
  event: string;
  data: unknown;
}

export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => queue.push(message) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) {
        const message = queue.shift()!;
        yield { event: message.event ?? "message", data: parseData(message.data) };
      }
    }
  } finally {
    // A consumer that stops early (Ctrl-C) closes the connection, which cancels the model call.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
