/**
 * The shape check of an MCP server body at this worker's door. The gateway validated it with
 * McpServerBodySchema (zod, defaults applied); this only makes sure a caller with a bug cannot
 * store a row the worker could not use (see tool-body.ts for why it is not the zod schema again).
 */
import { MCP_LIMITS, MCP_SERVER_NAME_PATTERN, TOOL_NAME_PATTERN, type McpServerBody } from "@crispy/contracts";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first field of `body` that is not what a stored server needs, with why; null when sound. */
export function mcpBodyProblem(body: McpServerBody): { field: string; message: string } | null {
  if (!isPlainObject(body)) return { field: "body", message: "must be an object" };
  const { name, url, description, auth, allowTools, timeoutMs } = body as Record<string, unknown>;
  if (typeof name !== "string" || !MCP_SERVER_NAME_PATTERN.test(name)) {
    return { field: "name", message: "must be 1-32 characters of a-z 0-9 - (no dots or underscores)" };
  }
  if (typeof url !== "string" || url.length > MCP_LIMITS.maxUrlChars) {
    return { field: "url", message: `must be a URL of at most ${MCP_LIMITS.maxUrlChars} characters` };
  }
  if (
    description !== undefined &&
    (typeof description !== "string" || description.length > MCP_LIMITS.maxDescriptionChars)
  ) {
    return {
      field: "description",
      message: `must be a string of at most ${MCP_LIMITS.maxDescriptionChars} characters`,
    };
  }
  if (auth !== undefined) {
    const bearer = isPlainObject(auth) ? auth.bearer : undefined;
    if (typeof bearer !== "string" || bearer.length === 0 || bearer.length > MCP_LIMITS.maxSecretChars) {
      return { field: "auth.bearer", message: `must be 1-${MCP_LIMITS.maxSecretChars} characters` };
    }
  }
  if (allowTools !== undefined) {
    if (
      !Array.isArray(allowTools) ||
      allowTools.length === 0 ||
      allowTools.length > MCP_LIMITS.maxAllowTools ||
      !allowTools.every((tool) => typeof tool === "string" && TOOL_NAME_PATTERN.test(tool))
    ) {
      return {
        field: "allowTools",
        message: `must be 1-${MCP_LIMITS.maxAllowTools} tool names of 1-64 characters of A-Z a-z 0-9 _ -`,
      };
    }
  }
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== "number" ||
      !Number.isInteger(timeoutMs) ||
      timeoutMs < MCP_LIMITS.minTimeoutMs ||
      timeoutMs > MCP_LIMITS.maxTimeoutMs)
  ) {
    return {
      field: "timeoutMs",
      message: `must be a whole number of milliseconds from ${MCP_LIMITS.minTimeoutMs} to ${MCP_LIMITS.maxTimeoutMs}`,
    };
  }
  return null;
}
