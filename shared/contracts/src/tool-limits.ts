/**
 * The tools worker's public limits and built-in tool names, in a module without zod (see
 * chat-limits.ts for why).
 */
export const TOOL_LIMITS = {
  /** Tenant-defined (HTTP) tools per tenant. */
  maxHttpTools: 100,
  /** Characters of a tool's description. */
  maxDescriptionChars: 1_024,
  /** Bytes of a tool's JSON Schema (serialised). */
  maxSchemaBytes: 16_384,
  /** Bytes of one call's input (serialised JSON). */
  maxInputBytes: 65_536,
  /** Characters of a tool result handed to the model (longer results are cut, and marked so). */
  maxResultChars: 16_000,
  /** Headers an HTTP tool may set, and the size of one header value. */
  maxHeaders: 20,
  maxHeaderValueChars: 1_024,
  /** Characters of an HTTP tool's auth secret. */
  maxSecretChars: 4_096,
  /** An HTTP tool's timeout, milliseconds: default and bounds. */
  defaultTimeoutMs: 10_000,
  minTimeoutMs: 100,
  maxTimeoutMs: 30_000,
  /** Redirects an HTTP tool call follows (each one re-checked by the address guard). */
  maxRedirects: 3,
  /** Page size of the execution audit. */
  maxPageSize: 100,
  defaultPageSize: 20,
  /** Characters of a file path for the file tools. */
  maxPathChars: 256,
} as const;

/** The built-in tools every tenant has (when tools are enabled), in listing order. */
export const BUILTIN_TOOLS = [
  "search_documents",
  "sessions_list",
  "file_read",
  "file_write",
  "file_list",
  "current_time",
] as const;
export type BuiltinToolName = (typeof BUILTIN_TOOLS)[number];

/** OpenAI's rule for function names: letters, digits, `_` and `-`, 1-64 characters. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A name in the tenant's registry: a built-in or HTTP tool (TOOL_NAME_PATTERN), or a remote MCP
 * server's tool as `<server>.<tool>` (server: 1-32 of a-z 0-9 -), 64 characters in all. Models
 * get such names wire-safe (`.` → `__`, @crispy/ai tool-names.ts); clients use them as they are.
 */
export const TOOL_REF_PATTERN = /^(?=.{1,64}$)(?:[a-z0-9-]{1,32}\.)?[A-Za-z0-9_-]{1,64}$/;
export const TOOL_REF_MESSAGE = "must be a tool name (1-64 characters of A-Z a-z 0-9 _ -) or <server>.<tool>";
