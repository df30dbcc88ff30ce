/**
 * Error codes shared by every worker. RPC methods return expected failures as values
 * (`RpcResult`), because error classes and `cause` do not survive RPC; the gateway maps each code
 * to an HTTP status in one place (`workers/gateway/src/http/errors.ts`).
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
