/**
 * The one place error codes become HTTP statuses, and the one error body shape:
 * `{ "error": { "code", "message", "requestId", "details"? } }`. Handlers throw `HttpError` (or
 * return an RPC failure through `unwrap`); the app's catch turns it into a response.
 */
import { type ErrorBody, type ErrorCode, type RpcError, type RpcResult, STATUS_BY_CODE } from "@crispy/contracts";

export function statusOf(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

export class HttpError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message);
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  /** The RPC failure as an HTTP error; a budget's reset or a rate's wait becomes `Retry-After`. */
  static from(error: RpcError): HttpError {
    const resetsAt = error.details?.resetsAt;
    const retryAfterSeconds = error.details?.retryAfterSeconds;
    let headers: Record<string, string> | undefined;
    if (error.code === "budget_exceeded" && typeof resetsAt === "string")
      headers = { "retry-after": String(Math.max(1, Math.ceil((Date.parse(resetsAt) - Date.now()) / 1000))) };
    else if (error.code === "rate_limited" && typeof retryAfterSeconds === "number")
      headers = { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) };
    return new HttpError(error.code, error.message, error.details, headers);
  }
}

/** The value of a successful RPC result, or the failure thrown as an HttpError. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (!result.ok) throw HttpError.from(result.error);
  return result.value;
}

export function errorResponse(
  code: ErrorCode,
  message: string,
  requestId: string,
  details?: Record<string, unknown>,
  headers?: Record<string, string>,
): Response {
  const body: ErrorBody = { error: { code, message, requestId, ...(details ? { details } : {}) } };
  const response = Response.json(body, { status: statusOf(code) });
  if (headers) for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

/**
 * An exception that came from another worker or a Durable Object rather than from this code:
 * workerd marks those `remote` (thrown by the callee), `retryable` or `overloaded` (raised by the
 * runtime: an object restarting, overloaded, out of memory …). The client gets 503
 * `upstream_unavailable` with `Retry-After` — the request may well succeed again — instead of a
 * 500 that reads like a bug in the request. Null for anything else.
 */
export function upstreamFailure(error: unknown): HttpError | null {
  if (!(error instanceof Error)) return null;
  const marks = error as Error & { remote?: unknown; retryable?: unknown; overloaded?: unknown };
  if (marks.remote !== true && marks.retryable !== true && marks.overloaded !== true) return null;
  return new HttpError(
    "upstream_unavailable",
    "an internal service failed while handling the request; retry shortly and quote the request id if it persists",
    undefined,
    { "retry-after": marks.overloaded === true ? "5" : "1" },
  );
}
