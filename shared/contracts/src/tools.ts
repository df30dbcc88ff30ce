/**
 * Contracts of tools: the HTTP bodies the gateway validates for the tool registry and tool
 * execution, and the values the tools worker's RPC methods take and return.
 *
 * A tool's input and output cross RPC as JSON text (`inputJson`, `output`): RPC stub types drop
 * any branch containing `unknown`, and the model sees text anyway.
 */
import { z } from "zod";
import { BUILTIN_TOOLS, TOOL_LIMITS, TOOL_NAME_PATTERN, TOOL_REF_MESSAGE, TOOL_REF_PATTERN } from "./tool-limits";
import { SessionIdSchema } from "./chat";
import type { SessionSummary } from "./chat";

export const ToolNameSchema = z
  .string()
  .regex(TOOL_NAME_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -")
  .refine((name) => !(BUILTIN_TOOLS as readonly string[]).includes(name), "is the name of a built-in tool");

/** A JSON Schema for a tool's parameters: an object schema (what OpenAI and MCP require). */
export const ToolParametersSchema = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema.type === "object", 'must be a JSON Schema with "type": "object"')
  .refine(
    (schema) => new TextEncoder().encode(JSON.stringify(schema)).length <= TOOL_LIMITS.maxSchemaBytes,
    `must be at most ${TOOL_LIMITS.maxSchemaBytes} bytes as JSON`,
  );

const HeaderName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be a header name (A-Z a-z 0-9 -)");
/** Headers the platform sets itself, or that would let a tool impersonate or smuggle. */
export const RESERVED_TOOL_HEADERS = [
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "cookie",
  "authorization",
  "cf-connecting-ip",
  "x-forwarded-for",
] as const;

export const HttpToolAuthSchema = z.strictObject({
  /** "bearer": `Authorization: Bearer <secret>`; "header": `<header>: <secret>`. */
  type: z.enum(["bearer", "header"]),
  header: HeaderName.optional(),
  /** Write-only: stored encrypted (AES-GCM), never returned by any API. */
  secret: z.string().min(1).max(TOOL_LIMITS.maxSecretChars),
});

export const HttpToolBodySchema = z
  .strictObject({
    name: ToolNameSchema,
    description: z.string().trim().min(1).max(TOOL_LIMITS.maxDescriptionChars),
    parameters: ToolParametersSchema.default({ type: "object", properties: {} }),
    /** https (http only to 127.0.0.1/localhost where the local-dev exception is on). */
    url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    /** GET and DELETE send the input as query parameters; the others as a JSON body. */
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    headers: z
      .record(HeaderName, z.string().max(TOOL_LIMITS.maxHeaderValueChars))
      .refine((h) => Object.keys(h).length <= TOOL_LIMITS.maxHeaders, `at most ${TOOL_LIMITS.maxHeaders} headers`)
      .refine(
        (h) =>
          !Object.keys(h).some((name) => (RESERVED_TOOL_HEADERS as readonly string[]).includes(name.toLowerCase())),
        `must not set ${RESERVED_TOOL_HEADERS.join(", ")} (use auth for credentials)`,
      )
      .default({}),
    auth: HttpToolAuthSchema.optional(),
    timeoutMs: z
      .number()
      .int()
      .min(TOOL_LIMITS.minTimeoutMs)
      .max(TOOL_LIMITS.maxTimeoutMs)
      .default(TOOL_LIMITS.defaultTimeoutMs),
  })
  .refine((body) => body.auth?.type !== "header" || body.auth.header !== undefined, {
    path: ["auth", "header"],
    message: 'is required when auth.type is "header"',
  });
export type HttpToolBody = z.output<typeof HttpToolBodySchema>;

/** `PUT /v1/tools/:name`: the same body; `name`, when given, must match the path. */
export const HttpToolReplaceSchema = HttpToolBodySchema;

/** `POST /v1/tools/:name/execute`. */
export const ExecuteToolBodySchema = z.strictObject({
  input: z.record(z.string(), z.unknown()).default({}),
  /** Which session the call is for (shown in the audit; `sessions_list` ignores it). */
  sessionId: SessionIdSchema.optional(),
});

/** The seeds' `POST /tools/exec`. */
export const ToolExecBodySchema = z.strictObject({
  name: z.string().regex(TOOL_REF_PATTERN, TOOL_REF_MESSAGE),
  input: z.record(z.string(), z.unknown()).default({}),
  sessionId: SessionIdSchema.optional(),
});

export const ExecutionsQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(TOOL_LIMITS.maxPageSize).default(TOOL_LIMITS.defaultPageSize),
  tool: z.string().regex(TOOL_REF_PATTERN, TOOL_REF_MESSAGE).optional(),
});
export type ExecutionsQuery = z.output<typeof ExecutionsQuerySchema>;

/** A tool as listed: what a model (or a client) needs to call it. */
export interface ToolSummary {
  name: string;
  description: string;
  /** JSON Schema (object) of the input, as JSON text. */
  parametersJson: string;
  kind: "builtin" | "http" | "mcp";
  /** For a remote MCP server's tool (named `<server>.<tool>`): the server and the tool's own name. */
  mcp?: { server: string; tool: string };
  /** For an HTTP tool: where it goes (the secret never appears). */
  http?: {
    url: string;
    method: string;
    headers: Record<string, string>;
    auth: { type: "bearer" | "header"; header: string | null } | null;
    timeoutMs: number;
  };
  createdAt?: string;
  updatedAt?: string;
}

/** Who asked for a call: the HTTP API, a chat turn's tool loop, or an OpenAI-style completion. */
export type ToolCaller = "api" | "chat" | "completions" | "mcp";

export interface ToolCallRequest {
  name: string;
  /** The input object, as JSON text (validated against the tool's schema by the tools worker). */
  inputJson: string;
  sessionId?: string;
  /** The model's tool call id, when a model made the call. */
  callId?: string;
  caller: ToolCaller;
}

export type ToolExecutionStatus = "ok" | "error" | "timeout" | "invalid" | "denied";

/** One finished call. A tool that ran and failed is `ok: true` here with status "error". */
export interface ToolExecution {
  executionId: string;
  tool: string;
  status: ToolExecutionStatus;
  /** The result as text (JSON text for structured results); on failure, the error message. */
  output: string;
  /** Whether `output` was cut to TOOL_LIMITS.maxResultChars. */
  truncated: boolean;
  durationMs: number;
  outputBytes: number;
  /** The call's spans (ms by name: tool, audit); the gateway moves them into Server-Timing. */
  timings?: Record<string, number>;
}

/** An audit row: every execution, allowed or not. */
export interface ToolExecutionRecord {
  id: string;
  tool: string;
  keyId: string | null;
  sessionId: string | null;
  caller: ToolCaller;
  /** SHA-256 (hex) of the input JSON text. */
  inputDigest: string;
  status: ToolExecutionStatus;
  durationMs: number;
  outputBytes: number;
  error: string | null;
  createdAt: string;
}

/**
 * What a caller lends the tools worker for built-ins whose data another worker owns (the tools
 * worker binds no caller, so the mesh has no cycle): passed as an RpcTarget.
 */
export interface ToolHost {
  listSessions(limit: number): Promise<SessionSummary[]>;
}
