/**
 * The platform's tools as an MCP client sees them, and what a call comes back as: a listed
 * ToolSummary becomes an MCP `Tool` (its JSON Schema published as stored), a finished execution a
 * `CallToolResult`, and a refused call either a tool error result or a JSON-RPC error — the split
 * the current protocol revision asks for: input that breaks the tool's schema is an execution
 * error the model can read and correct (SEP-1303); a tool the key cannot call is an unknown tool
 * (-32602); anything else that stopped the call is the server's failure (-32603).
 */
import type { BuiltinToolName, RpcError, ToolExecution, ToolSummary } from "@crispy/contracts";
import { type CallToolResult, ErrorCode, type Tool, type ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";

/**
 * A JSON-RPC error the MCP SDK sends as it is: `code` and `message` go out unchanged (the SDK's
 * own McpError would prefix the message with "MCP error <code>:", and the client prefixes it again).
 */
export class ProtocolError extends Error {
  readonly code: number;
  readonly data: Record<string, unknown>;

  constructor(code: number, message: string, data: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** What is known of each built-in; every other tool (HTTP, a remote server's) reaches outside the platform. */
const BUILTIN_ANNOTATIONS: Record<BuiltinToolName, ToolAnnotations> = {
  search_documents: { readOnlyHint: true, openWorldHint: false },
  sessions_list: { readOnlyHint: true, openWorldHint: false },
  file_read: { readOnlyHint: true, openWorldHint: false },
  file_write: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  file_list: { readOnlyHint: true, openWorldHint: false },
  current_time: { readOnlyHint: true, openWorldHint: false },
};

function annotationsOf(tool: ToolSummary): ToolAnnotations | undefined {
  if (tool.kind !== "builtin") return { openWorldHint: true };
  return Object.hasOwn(BUILTIN_ANNOTATIONS, tool.name) ? BUILTIN_ANNOTATIONS[tool.name as BuiltinToolName] : undefined;
}

/** A listed tool as an MCP `Tool`: name, description, the stored JSON Schema, and hints when known. */
export function mcpTool(tool: ToolSummary): Tool {
  const annotations = annotationsOf(tool);
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: JSON.parse(tool.parametersJson) as Tool["inputSchema"],
    ...(annotations ? { annotations } : {}),
  };
}

/** A JSON object's value, or undefined for anything else (arrays, scalars, text that is not JSON). */
function jsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A finished execution: its output as text (what a model reads), a JSON object output also as
 * `structuredContent` (search_documents' passages and their citations: title, url, documentId,
 * chunkId, score), and a tool that ran and failed or timed out as `isError` with its message.
 * `_meta.executionId` is the row in `GET /v1/tools/executions`.
 */
export function callResult(execution: ToolExecution): CallToolResult {
  const content: CallToolResult["content"] = [{ type: "text", text: execution.output }];
  if (execution.truncated) {
    content.push({ type: "text", text: `[output cut to ${execution.output.length} characters]` });
  }
  const structured = execution.status === "ok" && !execution.truncated ? jsonObject(execution.output) : undefined;
  return {
    content,
    ...(structured ? { structuredContent: structured } : {}),
    ...(execution.status === "ok" ? {} : { isError: true }),
    _meta: {
      executionId: execution.executionId,
      status: execution.status,
      durationMs: execution.durationMs,
      truncated: execution.truncated,
    },
  };
}

/**
 * A call the tools worker refused (and audited). Input that breaks the tool's schema is a tool
 * error naming the field; an invalid name, an unknown tool or one outside the key's allow-list
 * is -32602; the rest is -32603 with the gateway's error code and the request id in `data`.
 */
export function refusal(error: RpcError, requestId: string): CallToolResult {
  const data = { code: error.code, requestId, ...(error.details ? { details: error.details } : {}) };
  const nameProblem = error.code === "bad_request" && error.details?.field === "name";
  if ((error.code === "validation_failed" || error.code === "bad_request") && !nameProblem) {
    return { content: [{ type: "text", text: error.message }], isError: true, _meta: data };
  }
  if (nameProblem || error.code === "not_found" || error.code === "forbidden") {
    throw new ProtocolError(ErrorCode.InvalidParams, error.message, data);
  }
  throw new ProtocolError(ErrorCode.InternalError, error.message, data);
}
