/**
 * Running a remote MCP server's tool: one `tools/call` (mcp-client.ts) under the server's timeout,
 * its responses read up to the tenant's `tools.maxResponseBytes` — the limits HTTP tools have —
 * and the CallToolResult as text: its text content joined by newlines (other content described in
 * brackets), else its structured content as JSON; `isError` makes it a failure the model reads.
 *
 * A server URL the guard now refuses is never contacted (a refusal, audited "denied"); a server
 * that answers too slowly ends "timeout" at the timeout; anything else that goes wrong is the
 * tool's failure (status "error").
 */
import type { TenantContext } from "@crispy/contracts";
import { type CallToolResult, callRemoteTool } from "./mcp-client";
import type { CachedMcpTool, StoredMcpServer } from "./mcp-server-store";
import { McpServers } from "./mcp-servers";
import { type RunOutcome, failed, succeeded, timedOut } from "./outcome";

export async function runMcpTool(
  env: ToolsEnv,
  tenant: TenantContext,
  server: StoredMcpServer,
  tool: CachedMcpTool,
  input: Record<string, unknown>,
): Promise<RunOutcome> {
  const label = `MCP tool "${server.name}.${tool.name}"`;
  const endpoint = await new McpServers(env, tenant.tenantId, tenant.requestId).endpoint(
    server,
    tenant.config.tools.maxResponseBytes,
  );
  if (!endpoint.ok) {
    return {
      kind: "refused",
      status: endpoint.error.code === "forbidden" ? "denied" : "error",
      failure: endpoint,
    };
  }
  const called = await callRemoteTool(endpoint.value, tool.name, input);
  if (!called.ok) {
    switch (called.kind) {
      case "timeout":
        return timedOut(`${label} did not answer within its server's timeout of ${server.timeoutMs} ms`);
      case "too_large":
        return failed(
          `${label} answered more than ${tenant.config.tools.maxResponseBytes} bytes (the tenant's tools.maxResponseBytes); the response was cut off and discarded`,
          "response too large",
        );
      default:
        return failed(`${label} failed: ${called.message}`);
    }
  }
  const text = resultText(called.value);
  return called.value.isError === true
    ? failed(text === "" ? `${label} reported an error` : text, "tool error")
    : succeeded(text);
}

/** A CallToolResult as the text a model reads. */
function resultText(result: CallToolResult): string {
  const parts = (result.content ?? []).map((item) => {
    switch (item.type) {
      case "text":
        return item.text;
      case "image":
      case "audio":
        return `[${item.type}: ${item.mimeType}, ${Math.floor((item.data.length * 3) / 4)} bytes]`;
      case "resource":
        return "text" in item.resource && typeof item.resource.text === "string"
          ? item.resource.text
          : `[resource: ${item.resource.uri}]`;
      case "resource_link":
        return `[resource link: ${item.uri}]`;
      default:
        return "";
    }
  });
  const text = parts.filter((part) => part !== "").join("\n");
  if (text === "" && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return text;
}
