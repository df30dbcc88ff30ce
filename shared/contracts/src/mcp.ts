/**
 * Contracts of remote MCP servers as a tool source: the body of `POST /v1/mcp-servers` (validated
 * by the gateway) and the summary the tools worker returns. The limits and the qualified-name rule
 * (`<server>.<tool>`) are in mcp-limits.ts, which has no zod.
 */
import { z } from "zod";
import { MCP_LIMITS, MCP_SERVER_NAME_PATTERN } from "./mcp-limits";
import { TOOL_NAME_PATTERN } from "./tool-limits";
import { HTTP_URL_MESSAGE, isHttpUrl } from "./urls";

export const McpServerNameSchema = z
  .string()
  .regex(MCP_SERVER_NAME_PATTERN, "must be 1-32 characters of a-z 0-9 - (no dots or underscores)");

export const McpServerBodySchema = z.strictObject({
  name: McpServerNameSchema,
  /** The server's Streamable HTTP endpoint: https (http only to 127.0.0.1/localhost in local development). */
  url: z.string().max(MCP_LIMITS.maxUrlChars).refine(isHttpUrl, HTTP_URL_MESSAGE),
  description: z.string().trim().min(1).max(MCP_LIMITS.maxDescriptionChars).optional(),
  /** Write-only: sent as `Authorization: Bearer <bearer>`, stored encrypted, never returned. */
  auth: z.strictObject({ bearer: z.string().min(1).max(MCP_LIMITS.maxSecretChars) }).optional(),
  /** Only these of the server's tools (their own names, not qualified) are taken; omitted: all. */
  allowTools: z
    .array(z.string().regex(TOOL_NAME_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -"))
    .min(1)
    .max(MCP_LIMITS.maxAllowTools)
    .refine((names) => new Set(names).size === names.length, "must not repeat a name")
    .optional(),
  /**
   * One exchange with the server (connect and list, or connect and call), milliseconds; the
   * tools worker applies the default (MCP_LIMITS.defaultTimeoutMs) when it is left out.
   */
  timeoutMs: z.number().int().min(MCP_LIMITS.minTimeoutMs).max(MCP_LIMITS.maxTimeoutMs).optional(),
});
export type McpServerBody = z.output<typeof McpServerBodySchema>;

/** A remote tool that is not in the registry, and why (a bad name, the allow-list, a schema…). */
export interface McpSkippedTool {
  name: string;
  reason: string;
}

/** A registered server as listed: never its secret. */
export interface McpServerSummary {
  name: string;
  url: string;
  description: string | null;
  hasAuth: boolean;
  allowTools: string[] | null;
  timeoutMs: number;
  /** How many of its tools are in the registry, and their qualified names (`<server>.<tool>`). */
  tools: number;
  toolNames: string[];
  skipped: McpSkippedTool[];
  /** The last refresh that succeeded (null: none yet). */
  refreshedAt: string | null;
  /** The last refresh attempt, successful or not. */
  checkedAt: string | null;
  /** Why the last attempt failed; null when it succeeded. */
  lastError: string | null;
  createdAt: string;
}
