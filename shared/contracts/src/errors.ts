/**
 * Error codes shared by every worker. RPC methods return expected failures as values
 * (`RpcResult`), because error classes and `cause` do not survive RPC; each code has one HTTP
 * status (`STATUS_BY_CODE`), which the gateway answers with (`workers/gateway/src/http/errors.ts`).
 * Dependency-free, so clients can import it alone (`@crispy/contracts/errors`).
 */
export const ERROR_CODES = [
  "bad_request",
  "invalid_json",
  "validation_failed",
  "payload_too_large",
  "unsupported_media_type",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "tenant_required",
  "tenant_unknown",
  "rate_limited",
  "budget_exceeded",
  "conflict",
  "ai_unavailable",
  "upstream_unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP status of each code: the gateway answers with it, and clients (the CLI) read it back. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  tenant_required: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  tenant_unknown: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  budget_exceeded: 429,
  internal: 500,
  ai_unavailable: 502,
  upstream_unavailable: 503,
};

/**
 * Detail values are flat JSON on purpose: RPC stub types drop any branch containing `unknown`
 * (it may not be serialisable), which would hide the whole failure branch from callers.
 */
export type ErrorDetail = string | number | boolean | null | Array<string | number | boolean | null>;

export interface RpcError {
  code: ErrorCode;
  message: string;
  details?: Record<string, ErrorDetail>;
}

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: RpcError };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(
  code: ErrorCode,
  message: string,
  details?: Record<string, ErrorDetail>,
): { ok: false; error: RpcError } {
  return { ok: false, error: details ? { code, message, details } : { code, message } };
}
