/**
 * The tenant's server-side tools in a chat turn: which ones a turn offers the model (those the
 * key may call, as the tools worker lists them), and how a call the model makes is run (through
 * the tools worker, which validates, runs, and audits it).
 *
 * Invariants:
 * - Tools are offered only when the tenant enables them (`features.tools`) and the key has the
 *   `tools` scope; the tools worker applies the key's allow-list when listing and again when
 *   running, so a model can never call a tool the key could not call through the API.
 * - Running a call never throws: a refusal (invalid arguments, denied, unknown tool) or an
 *   unreachable tools worker becomes a failed ToolResult, which the model sees as an error.
 */
import { RpcTarget } from "cloudflare:workers";
import type { ToolCall, ToolSpec } from "@crispy/ai";
import {
  fail,
  ok,
  type RpcResult,
  type SessionSummary,
  type TenantContext,
  type ToolCaller,
  type ToolExecutionStatus,
  type ToolHost,
  type ToolSummary,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage, stubFor } from "@crispy/worker-kit";
import type { ToolResult } from "./turn";

/** Lends the tools worker this tenant's session list (the data `sessions_list` reads). */
class ChatToolHost extends RpcTarget implements ToolHost {
  readonly #env: ChatEnv;
  readonly #tenantId: string;

  constructor(env: ChatEnv, tenantId: string) {
    super();
    this.#env = env;
    this.#tenantId = tenantId;
  }

  async listSessions(limit: number): Promise<SessionSummary[]> {
    const page = await stubFor(this.#env.SESSION_DIRECTORY, this.#tenantId).list({ limit });
    if (!page.ok) throw new Error(page.error.message);
    return page.value.items;
  }
}

/** Whether this request may use server-side tools at all. */
export function toolsAllowed(tenant: TenantContext): boolean {
  return tenant.config.features.tools && tenant.scopes.includes("tools");
}

export interface ServerTools {
  specs: ToolSpec[];
  names: Set<string>;
  execute(call: ToolCall): Promise<ToolResult>;
}

/**
 * The server-side tools a turn offers: every tool the key may call, or only `names`. With
 * `explicit` (the client asked for them), not being allowed tools or naming an unknown one is a
 * failure; otherwise (the chat loop's default) it just means no tools.
 */
export async function serverTools(
  env: ChatEnv,
  tenant: TenantContext,
  names: true | string[],
  options: { explicit: boolean; caller: ToolCaller; sessionId: string | null; field: string },
): Promise<RpcResult<ServerTools | null>> {
  if (!toolsAllowed(tenant)) {
    if (!options.explicit) return ok(null);
    const why = tenant.config.features.tools
      ? "this API key lacks the tools scope"
      : `tools are disabled for tenant "${tenant.tenantId}" (features.tools)`;
    return fail("forbidden", `${options.field}: ${why}`);
  }
  let listed: RpcResult<ToolSummary[]>;
  try {
    listed = await env.TOOLS.list(tenant);
  } catch (error) {
    log("warn", "chat.tools_unavailable", {
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
      reason: errorMessage(error),
    });
    return options.explicit ? fail("upstream_unavailable", "the tools worker could not be reached") : ok(null);
  }
  if (!listed.ok) return options.explicit ? listed : ok(null);
  let tools = listed.value;
  if (names !== true) {
    const available = new Set(tools.map((tool) => tool.name));
    const missing = names.filter((name) => !available.has(name));
    if (missing.length > 0) {
      return fail("bad_request", `${options.field}: no tool this key may call is named ${missing.join(", ")}`, {
        field: options.field,
        unknown: missing,
      });
    }
    const wanted = new Set(names);
    tools = tools.filter((tool) => wanted.has(tool.name));
  }
  if (tools.length === 0) return ok(null);
  const host = new ChatToolHost(env, tenant.tenantId);
  return ok({
    specs: tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      parameters: JSON.parse(tool.parametersJson) as Record<string, unknown>,
    })),
    names: new Set(tools.map((tool) => tool.name)),
    execute: (call) => runTool(env, tenant, host, call, options),
  });
}

const STATUS_OF_CODE: Partial<Record<string, ToolExecutionStatus>> = {
  validation_failed: "invalid",
  bad_request: "invalid",
  forbidden: "denied",
};

async function runTool(
  env: ChatEnv,
  tenant: TenantContext,
  host: ChatToolHost,
  call: ToolCall,
  options: { caller: ToolCaller; sessionId: string | null },
): Promise<ToolResult> {
  const started = Date.now();
  try {
    const executed = await env.TOOLS.execute(
      tenant,
      {
        name: call.name,
        inputJson: call.arguments.trim() === "" ? "{}" : call.arguments,
        callId: call.id,
        caller: options.caller,
        ...(options.sessionId ? { sessionId: options.sessionId } : {}),
      },
      host,
    );
    if (executed.ok) {
      const { status, output, truncated, durationMs, executionId } = executed.value;
      return { call, status, output, truncated, durationMs, executionId };
    }
    return {
      call,
      status: STATUS_OF_CODE[executed.error.code] ?? "error",
      output: executed.error.message,
      truncated: false,
      durationMs: Date.now() - started,
      executionId: null,
    };
  } catch (error) {
    log("warn", "chat.tool_call_failed", {
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
      tool: call.name,
      reason: errorMessage(error),
    });
    return {
      call,
      status: "error",
      output: "the tools worker could not be reached",
      truncated: false,
      durationMs: Date.now() - started,
      executionId: null,
    };
  }
}
