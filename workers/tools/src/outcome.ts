/**
 * What running a tool comes to, before the execution is audited and handed back:
 * - "ran": the tool ran; `status` says how it ended ("ok", or "error"/"timeout" with the message a
 *   model can read as `output`, and a short `error` for the audit — never a response body);
 * - "refused": it did not run because the call was wrong or not allowed (an RpcResult failure,
 *   audited as "invalid" or "denied").
 */
import { fail, type ErrorCode, type ErrorDetail, type RpcError } from "@crispy/contracts";

export type RunOutcome =
  | { kind: "ran"; status: "ok" | "error" | "timeout"; output: string; error: string | null }
  | { kind: "refused"; status: "invalid" | "denied" | "error"; failure: { ok: false; error: RpcError } };

export function succeeded(output: string): RunOutcome {
  return { kind: "ran", status: "ok", output, error: null };
}

/** The tool ran and failed: `message` goes to the caller (and model); `error` (default: message) to the audit. */
export function failed(message: string, error = message): RunOutcome {
  return { kind: "ran", status: "error", output: message, error };
}

export function timedOut(message: string): RunOutcome {
  return { kind: "ran", status: "timeout", output: message, error: message };
}

export function refused(
  code: ErrorCode,
  message: string,
  details?: Record<string, ErrorDetail>,
  status: "invalid" | "denied" | "error" = "invalid",
): RunOutcome {
  return { kind: "refused", status, failure: fail(code, message, details) };
}

/** An input field that broke a rule the schema cannot express: `input.<field>: <reason>`. */
export function invalidField(field: string, reason: string): RunOutcome {
  return refused("validation_failed", `input.${field}: ${reason}`, { field });
}
