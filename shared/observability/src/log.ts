/**
 * Structured logs: one JSON object per line, always carrying the tenant id (or "-" before the
 * tenant is known) and the request id, so Workers Logs can be filtered per tenant and per request.
 * Never log secrets, API keys or message content.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogFields {
  tenantId: string;
  requestId: string;
  [field: string]: unknown;
}

/** Writes one structured log line. */
export function log(level: LogLevel, event: string, fields: LogFields): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
