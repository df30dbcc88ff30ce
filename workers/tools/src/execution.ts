/**
 * One tool call, start to end: who may make it (access.ts), which tool it names (registry.ts),
 * whether its input fits the tool's schema (json-schema.ts), running it (a built-in, http-tool.ts
 * with its secret opened, or mcp-tool.ts for a remote MCP server's `<server>.<tool>`), cutting
 * the output to TOOL_LIMITS.maxResultChars, and the audit row (audit-store.ts) — written for every
 * call, refused ones included.
 *
 * A refusal (forbidden, unknown tool, bad input) is a failure value and audited "denied" or
 * "invalid"; a tool that ran and failed is a success value whose status says "error" or "timeout",
 * so a chat loop can hand the error to the model. Logs carry ids, statuses and sizes, never the
 * input, the output or a secret.
 */
import {
  TOOL_LIMITS,
  TOOL_REF_MESSAGE,
  TOOL_REF_PATTERN,
  ok,
  type RpcResult,
  type TenantContext,
  type ToolCallRequest,
  type ToolCaller,
  type ToolExecution,
  type ToolHost,
} from "@crispy/contracts";
import { log, logFieldsOf, now, Spans, tracingOn } from "@crispy/observability";
import { errorMessage, idForMessage, sha256Hex } from "@crispy/worker-kit/util";
import { nameAllowed, outsideAllowList, toolsRefusal } from "./access";
import { AuditStore, newExecutionId } from "./audit-store";
import { configOf } from "./config";
import { runHttpTool } from "./http-tool";
import { compileSchema, validateInput } from "./json-schema";
import { runMcpTool } from "./mcp-tool";
import { type RunOutcome, refused } from "./outcome";
import { ToolRegistry, notFound, type ResolvedTool } from "./registry";
import { openSecret, secretKeyFrom } from "./secrets";

const CALLERS: ReadonlySet<ToolCaller> = new Set(["api", "chat", "completions", "mcp"]);
/** Nesting of the input's objects and arrays beyond which it is refused (the validator recurses). */
const MAX_INPUT_DEPTH = 32;
const encoder = new TextEncoder();

export async function executeCall(
  env: ToolsEnv,
  tenant: TenantContext,
  call: ToolCallRequest,
  host: ToolHost | undefined,
): Promise<RpcResult<ToolExecution>> {
  const started = Date.now();
  const id = newExecutionId(started);
  const name = typeof call?.name === "string" ? call.name : "";
  const inputJson = typeof call?.inputJson === "string" ? call.inputJson : "";
  const caller: ToolCaller = CALLERS.has(call?.caller) ? call.caller : "api";

  // Spans (returned as `timings`): `tool` (running it, once allowed and valid) and `audit` (its row).
  const spans = tracingOn("tools", env) ? new Spans() : null;
  let outcome: RunOutcome;
  if (!CALLERS.has(call?.caller)) outcome = refused("bad_request", `caller must be one of ${[...CALLERS].join(", ")}`);
  else outcome = await decideAndRun(env, tenant, name, inputJson, host, spans);
  const durationMs = Date.now() - started;

  let result: RpcResult<ToolExecution>;
  let outputBytes = 0;
  let error: string | null;
  if (outcome.kind === "refused") {
    result = outcome.failure;
    error = outcome.failure.error.message;
  } else {
    outputBytes = encoder.encode(outcome.output).byteLength;
    const { text, truncated } = cut(outcome.output, TOOL_LIMITS.maxResultChars);
    result = ok({
      executionId: id,
      tool: name,
      status: outcome.status,
      output: text,
      truncated,
      durationMs,
      outputBytes,
    });
    error = outcome.error;
  }

  const fields = {
    ...logFieldsOf(tenant),
    executionId: id,
    tool: idForMessage(call?.name),
    caller,
    status: outcome.status,
    durationMs,
    outputBytes,
  };
  const auditStarted = now();
  try {
    await new AuditStore(env.TOOLS_DB, tenant.tenantId).record({
      id,
      tool: idForMessage(call?.name),
      keyId: typeof tenant.keyId === "string" ? tenant.keyId : null,
      sessionId: typeof call?.sessionId === "string" ? call.sessionId.slice(0, 64) : null,
      caller,
      callId: typeof call?.callId === "string" ? call.callId.slice(0, 128) : null,
      inputDigest: await sha256Hex(inputJson),
      status: outcome.status,
      durationMs,
      outputBytes,
      error,
      createdAt: new Date(started).toISOString(),
    });
  } catch (auditError) {
    // The call already happened; hiding its result would help no one. The log line is the record.
    log("error", "tools.audit_failed", { ...fields, reason: errorMessage(auditError) });
  }
  spans?.end("audit", auditStarted);
  if (spans && result.ok) result.value.timings = spans.timings();
  // A tool that failed is worth a warning; a refused call is the caller's mistake, logged as info.
  log(outcome.status === "error" || outcome.status === "timeout" ? "warn" : "info", "tools.executed", fields);
  return result;
}

async function decideAndRun(
  env: ToolsEnv,
  tenant: TenantContext,
  name: string,
  inputJson: string,
  host: ToolHost | undefined,
  spans: Spans | null,
): Promise<RunOutcome> {
  const refusal = toolsRefusal(tenant);
  if (refusal) return { kind: "refused", status: "denied", failure: refusal };
  if (!TOOL_REF_PATTERN.test(name)) return refused("bad_request", `name ${TOOL_REF_MESSAGE}`, { field: "name" });
  if (!nameAllowed(tenant, name)) return { kind: "refused", status: "denied", failure: outsideAllowList(name) };

  const registry = new ToolRegistry(env, tenant);
  const resolved = await registry.find(name);
  if (!resolved) return { kind: "refused", status: "invalid", failure: notFound(name) };

  const input = parseInput(inputJson);
  if (!input.ok) return refused("bad_request", input.message, { field: "input" });

  const schema =
    resolved.kind === "builtin"
      ? resolved.tool.parameters(tenant)
      : (JSON.parse(
          resolved.kind === "http" ? resolved.tool.parametersJson : resolved.tool.inputSchemaJson,
        ) as unknown);
  const compiled = compileSchema(schema);
  if (!compiled.ok) {
    return refused(
      "internal",
      `tool "${name}": its stored schema cannot be used (${compiled.reason})`,
      undefined,
      "error",
    );
  }
  const problem = validateInput(compiled, input.value);
  if (problem) return refused("validation_failed", problem.message, { field: problem.field });

  const started = now();
  const outcome = await run(env, tenant, resolved, input.value, host);
  spans?.end("tool", started);
  return outcome;
}

async function run(
  env: ToolsEnv,
  tenant: TenantContext,
  resolved: ResolvedTool,
  input: Record<string, unknown>,
  host: ToolHost | undefined,
): Promise<RunOutcome> {
  if (resolved.kind === "builtin") return resolved.tool.run(input, { env, tenant, host });
  if (resolved.kind === "mcp") return runMcpTool(env, tenant, resolved.server, resolved.tool, input);
  const tool = resolved.tool;
  let secret: string | null = null;
  if (tool.secretSealed !== null) {
    const config = configOf(env);
    const key = await secretKeyFrom(config.TOOLS_SECRET_KEY);
    if (!key.ok) return { kind: "refused", status: "error", failure: key };
    secret = await openSecret(key.value, tool.secretSealed, { tenantId: tenant.tenantId, tool: tool.name });
    if (secret === null) {
      return refused(
        "internal",
        `the stored secret of tool "${tool.name}" cannot be decrypted (TOOLS_SECRET_KEY changed, or the row was altered); replace the tool with its secret`,
        undefined,
        "error",
      );
    }
  }
  return runHttpTool(tool, input, {
    loopback: configOf(env).HTTP_TOOLS_LOOPBACK,
    secret,
    maxResponseBytes: tenant.config.tools.maxResponseBytes,
  });
}

function parseInput(inputJson: string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const bytes = encoder.encode(inputJson).byteLength;
  if (bytes > TOOL_LIMITS.maxInputBytes) {
    return { ok: false, message: `input is ${bytes} bytes as JSON; at most ${TOOL_LIMITS.maxInputBytes} are accepted` };
  }
  let value: unknown;
  try {
    value = JSON.parse(inputJson);
  } catch {
    return { ok: false, message: "input must be JSON text of an object (inputJson does not parse)" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, message: "input must be a JSON object" };
  }
  if (depthOf(value, 0) > MAX_INPUT_DEPTH) {
    return { ok: false, message: `input nests deeper than ${MAX_INPUT_DEPTH} levels` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_INPUT_DEPTH || typeof value !== "object" || value === null) return depth;
  let deepest = depth + 1;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1));
  return deepest;
}

/** `text` cut to `max` characters (never inside a surrogate pair), and whether it was cut. */
function cut(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), truncated: true };
}
