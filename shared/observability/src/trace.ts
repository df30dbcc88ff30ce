/**
 * Request ids and W3C trace context. The gateway accepts a caller's `x-request-id` and
 * `traceparent` when well-formed, generates them otherwise, and hands every callee a child
 * traceparent (same trace id, new span id) so one request can be followed across the mesh.
 */

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  traceId: string;
  /** The span id of the caller's span, when a traceparent was received. */
  parentSpanId: string | null;
  /** This hop's own span id. */
  spanId: string;
  flags: string;
}

function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const byte of buffer) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** The caller's request id when it is safe to echo and log, else a fresh one. */
export function requestIdFrom(header: string | null): string {
  return header && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

/** Parses a W3C traceparent; invalid or all-zero ids start a new trace, as the spec requires. */
export function traceFrom(header: string | null): TraceContext {
  const match = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (match) {
    const [, version, traceId, parentSpanId, flags] = match as unknown as [string, string, string, string, string];
    if (version !== "ff" && !/^0+$/.test(traceId) && !/^0+$/.test(parentSpanId)) {
      return { traceId, parentSpanId, spanId: randomHex(8), flags };
    }
  }
  return { traceId: randomHex(16), parentSpanId: null, spanId: randomHex(8), flags: "01" };
}

/** The traceparent to send to a callee: this hop's span becomes the callee's parent. */
export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}
