/**
 * Remote MCP servers as a tool source: their limits and the rule of qualified tool names, in a
 * module without zod (see chat-limits.ts for why).
 *
 * A remote tool is named `<server>.<tool>` in the tenant's registry. A server name is 1-32 of
 * `a-z 0-9 -` — no `.` and no `_` — so the qualified name splits unambiguously at its one `.`,
 * and a caller that must avoid dots (OpenAI-style function names) can write `<server>__<tool>`
 * and still split at the first `__`.
 */
import { TOOL_LIMITS } from "./tool-limits";

export const MCP_LIMITS = {
  /** Remote MCP servers per tenant. */
  maxServers: 10,
  /** Tools taken from one server (the rest are reported as skipped). */
  maxToolsPerServer: 64,
  /** Names in a server's `allowTools`. */
  maxAllowTools: 64,
  /** Age of a server's cached tool list after which it is refreshed before use (and by the cron). */
  refreshTtlMs: 10 * 60_000,
  /** Characters of a server's URL and description. */
  maxUrlChars: 2_048,
  maxDescriptionChars: TOOL_LIMITS.maxDescriptionChars,
  /** Characters of the bearer secret. */
  maxSecretChars: TOOL_LIMITS.maxSecretChars,
  /** Timeout of one exchange with the server (initialize + list, or initialize + call), ms. */
  defaultTimeoutMs: TOOL_LIMITS.defaultTimeoutMs,
  minTimeoutMs: TOOL_LIMITS.minTimeoutMs,
  maxTimeoutMs: TOOL_LIMITS.maxTimeoutMs,
  /** Bytes of one response while listing tools (tool calls are capped by `tools.maxResponseBytes`). */
  maxListResponseBytes: 1024 * 1024,
  /** `tools/list` pages read per refresh. */
  maxListPages: 4,
} as const;

/** A server's name: 1-32 of a-z 0-9 - (no `.` or `_`, so qualified names split unambiguously). */
export const MCP_SERVER_NAME_PATTERN = /^[a-z0-9-]{1,32}$/;

/** `<server>.<tool>`, at most 64 characters, the tool part a TOOL_NAME_PATTERN name. */
export const QUALIFIED_TOOL_NAME_PATTERN = /^(?=.{3,64}$)[a-z0-9-]{1,32}\.[A-Za-z0-9_-]{1,62}$/;

/** The registry name of `tool` on `server`, or null when it cannot have one (bad tool name, too long). */
export function qualifiedToolName(server: string, tool: string): string | null {
  const name = `${server}.${tool}`;
  return QUALIFIED_TOOL_NAME_PATTERN.test(name) ? name : null;
}

/** `{ server, tool }` of a qualified name, or null when `name` is not one. */
export function splitQualifiedName(name: string): { server: string; tool: string } | null {
  if (!QUALIFIED_TOOL_NAME_PATTERN.test(name)) return null;
  const dot = name.indexOf(".");
  return { server: name.slice(0, dot), tool: name.slice(dot + 1) };
}
