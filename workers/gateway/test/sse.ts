/** Reads an SSE response event by event, recording when each arrived (for streaming tests). */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface TimedEvent extends EventSourceMessage {
  at: number;
}

/** Collects events until the stream ends, or until `stopAfter` returns true (then cancels). */
export async function readEvents(
  response: Response,
  stopAfter?: (event: TimedEvent) => boolean,
): Promise<TimedEvent[]> {
  const events: TimedEvent[] = [];
  let stop = false;
  const parser = createParser({
    onEvent(message) {
      const event = { ...message, at: performance.now() };
      events.push(event);
      if (stopAfter?.(event)) stop = true;
    },
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(value);
    if (stop) {
      await reader.cancel();
      break;
    }
  }
  return events;
}
