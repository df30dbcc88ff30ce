/**
 * Test helper (chat and rag suites): reads an SSE body frame by frame, recording when each frame arrived, so tests can
 * check both content and timing (tokens arrive as produced, not buffered).
 */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  /** Set for comment frames (`: keep-alive`). */
  comment?: string;
  /** performance.now() when the frame was complete. */
  at: number;
}

function parseFrame(block: string, at: number): SseFrame {
  const frame: SseFrame = { at };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      frame.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id" || field === "event") frame[field] = value;
    else if (field === "data") frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
  }
  return frame;
}

/** Collects frames until the stream ends, or until `stopAfter` returns true (then cancels it). */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  stopAfter?: (frame: SseFrame) => boolean,
): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return frames;
    buffer += value;
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const frame = parseFrame(buffer.slice(0, end), performance.now());
      buffer = buffer.slice(end + 2);
      frames.push(frame);
      if (stopAfter?.(frame)) {
        await reader.cancel();
        return frames;
      }
    }
  }
}

/** The JSON data of frames with event `name`. */
export function dataOf<T>(frames: SseFrame[], name: string): T[] {
  return frames.filter((f) => f.event === name).map((f) => JSON.parse(f.data!) as T);
}
