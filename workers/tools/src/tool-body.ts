/**
 * The shape check of an HTTP tool body at this worker's door. The gateway validated the body with
 * HttpToolBodySchema (zod, defaults applied) — that is the one validation of its content. This
 * only makes sure a caller with a bug cannot store a row the worker could not run: the types and
 * bounds the stored row and the outgoing request depend on. (Re-parsing with the zod schema here
 * would put the whole of zod into this worker's bundle.)
 */
import { TOOL_LIMITS, TOOL_NAME_PATTERN, type HttpToolBody } from "@crispy/contracts";
import { isBuiltinName } from "./builtins";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const MAX_URL_CHARS = 2_048;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first field of `body` that is not what a stored HTTP tool needs, with why; null when sound. */
export function bodyProblem(body: HttpToolBody): { field: string; message: string } | null {
  if (!isPlainObject(body)) return { field: "body", message: "must be an object" };
  const { name, description, parameters, url, method, headers, auth, timeoutMs } = body as Record<string, unknown>;
  if (typeof name !== "string" || !TOOL_NAME_PATTERN.test(name)) {
    return { field: "name", message: "must be 1-64 characters of A-Z a-z 0-9 _ -" };
  }
  if (isBuiltinName(name)) return { field: "name", message: "is the name of a built-in tool" };
  if (typeof description !== "string" || description.trim() === "") {
    return { field: "description", message: "must be a non-empty string" };
  }
  if (description.length > TOOL_LIMITS.maxDescriptionChars) {
    return { field: "description", message: `must be at most ${TOOL_LIMITS.maxDescriptionChars} characters` };
  }
  if (!isPlainObject(parameters) || parameters.type !== "object") {
    return { field: "parameters", message: 'must be a JSON Schema with "type": "object"' };
  }
  if (new TextEncoder().encode(JSON.stringify(parameters)).byteLength > TOOL_LIMITS.maxSchemaBytes) {
    return { field: "parameters", message: `must be at most ${TOOL_LIMITS.maxSchemaBytes} bytes as JSON` };
  }
  if (typeof url !== "string" || url.length > MAX_URL_CHARS) {
    return { field: "url", message: `must be a URL of at most ${MAX_URL_CHARS} characters` };
  }
  if (typeof method !== "string" || !METHODS.has(method)) {
    return { field: "method", message: "must be one of GET, POST, PUT, PATCH, DELETE" };
  }
  if (!isPlainObject(headers) || Object.keys(headers).length > TOOL_LIMITS.maxHeaders) {
    return { field: "headers", message: `must be an object of at most ${TOOL_LIMITS.maxHeaders} headers` };
  }
  for (const [header, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(header) || typeof value !== "string" || value.length > TOOL_LIMITS.maxHeaderValueChars) {
      return {
        field: `headers.${header.slice(0, 64)}`,
        message: `must be a header name with a string value of at most ${TOOL_LIMITS.maxHeaderValueChars} characters`,
      };
    }
  }
  if (auth !== undefined) {
    if (!isPlainObject(auth) || (auth.type !== "bearer" && auth.type !== "header")) {
      return { field: "auth.type", message: 'must be "bearer" or "header"' };
    }
    if (auth.type === "header" && (typeof auth.header !== "string" || !HEADER_NAME.test(auth.header))) {
      return { field: "auth.header", message: 'must be a header name when auth.type is "header"' };
    }
    if (
      typeof auth.secret !== "string" ||
      auth.secret.length === 0 ||
      auth.secret.length > TOOL_LIMITS.maxSecretChars
    ) {
      return { field: "auth.secret", message: `must be 1-${TOOL_LIMITS.maxSecretChars} characters` };
    }
  }
  if (
    typeof timeoutMs !== "number" ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < TOOL_LIMITS.minTimeoutMs ||
    timeoutMs > TOOL_LIMITS.maxTimeoutMs
  ) {
    return {
      field: "timeoutMs",
      message: `must be a whole number of milliseconds from ${TOOL_LIMITS.minTimeoutMs} to ${TOOL_LIMITS.maxTimeoutMs}`,
    };
  }
  return null;
}
