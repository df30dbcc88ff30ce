/**
 * One rule for turning upstream failures into `AiError`s, shared by the remote providers:
 * HTTP 408, 429 and 5xx, and network failures, are retryable `ai_unavailable`; any other HTTP
 * status is a non-retryable `ai_unavailable`; an answer we cannot read is `bad_response`; a
 * cancelled request is `aborted`.
 */
import { abortedError } from "./abort";
import { AiError } from "./types";

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The error for an upstream that answered with a non-2xx HTTP status. */
export function errorFromStatus(status: number, detail: string): AiError {
  const text = detail.trim().slice(0, 300);
  return new AiError(
    "ai_unavailable",
    `upstream answered HTTP ${status}${text ? `: ${text}` : ""}`,
    status,
    isRetryableStatus(status),
  );
}

/** The error for an answer whose shape is not the documented one. */
export function badResponse(what: string): AiError {
  return new AiError("bad_response", `unexpected upstream answer: ${what}`);
}

/** An error event inside an otherwise healthy stream (`data: {"error": …}`): transient. */
export function streamError(model: string, error: unknown): AiError {
  const detail = typeof error === "object" && error !== null && "message" in error ? error.message : error;
  return new AiError("ai_unavailable", `${model} stream error: ${messageOf(detail)}`, undefined, true);
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : (JSON.stringify(error) ?? String(error));
}

/**
 * Normalises anything a fetch or a binding threw: `AiError`s pass through, aborts (by our signal
 * or an AbortError) become `aborted`, and everything else is a retryable network failure.
 */
export function fromThrown(error: unknown, signal: AbortSignal | undefined): AiError {
  if (error instanceof AiError) return error;
  if (signal?.aborted || (error instanceof Error && error.name === "AbortError")) {
    return abortedError();
  }
  return new AiError("ai_unavailable", `network failure: ${messageOf(error)}`, undefined, true);
}
