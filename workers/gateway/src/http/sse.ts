/**
 * Server-sent event responses. The body is piped as it arrives (never buffered); when the client
 * goes away the stream is cancelled, which cancels the producer upstream (the model call).
 */
export function sseResponse(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      ...headers,
    },
  });
}
