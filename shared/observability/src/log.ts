/**
 * Structured logs: one JSON object per line, always carrying the tenant id (or "-" before the
 * tenant is known), the request id and the trace id, so Workers Logs can be filtered per tenant,
 * per request and per trace across every worker of the mesh. Never log secrets, API keys, prompts,
 * message content or a document's text: ids, codes, counts, sizes and durations only.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogFields {
  tenantId: string;
  requestId: string;
  /** The W3C trace id (32 hex digits); internal workers take it from `tenant.traceparent`. */
  traceId?: string;
  [field: string]: unknown;
}

/** Writes one structured log line. */
export function log(level: LogLevel, event: string, fields: LogFields): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`), or "-" when it is not
 * one. A slice, not a parse: the gateway built the traceparent every internal worker receives.
 */
export function traceIdOf(traceparent: unknown): string {
  return typeof traceparent === "string" && traceparent.length === 55 && traceparent[2] === "-"
    ? traceparent.slice(3, 35)
    : "-";
}

/** The fields every log line of an internal worker starts with: `log("warn", "x", { ...logFieldsOf(tenant), … })`. */
export function logFieldsOf(tenant: { tenantId: string; requestId: string; traceparent?: string }): {
  tenantId: string;
  requestId: string;
  traceId: string;
} {
  return { tenantId: tenant.tenantId, requestId: tenant.requestId, traceId: traceIdOf(tenant.traceparent) };
}
