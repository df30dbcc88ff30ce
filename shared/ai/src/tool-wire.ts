/**
 * Tools on the wire, shared by every provider: the OpenAI shapes of offered tools, tool choices,
 * assistant tool calls and tool results (both remote providers send them; Workers AI documents
 * the same nested `{ type: "function", function }` tool form), reading the tool calls an
 * upstream answered with (OpenAI's `{ id, type, function: { name, arguments } }` and Workers AI's
 * `{ name, arguments }` with `arguments` an object), and the checks every provider makes first.
 *
 * Invariants: a `ToolCall` read here always has a name and JSON-text arguments ("{}" when the
 * upstream sent none); a call without an id gets `toolCallId(...)`, a pure function of the
 * conversation length, the call's index in the answer and its name — stable across retries and
 * unique within a conversation (each answer comes at a new conversation length).
 */
import { badResponse } from "./errors";
import { isRecord } from "./json";
import { AiError, type ChatMessage, type ChatRequest, type ToolCall, type ToolChoice, type ToolSpec } from "./types";

/** A deterministic call id: `call_` + 12 hex digits of a 64-bit FNV-1a hash of the three parts. */
export function toolCallId(conversationLength: number, index: number, name: string): string {
  const text = `${conversationLength}\u0000${index}\u0000${name}`;
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `call_${hash.toString(16).padStart(16, "0").slice(0, 12)}`;
}

/** The tools a request really offers: none when toolChoice is "none". */
export function offeredTools(request: ChatRequest): readonly ToolSpec[] {
  return request.toolChoice === "none" ? [] : (request.tools ?? []);
}

/**
 * Refuses tool choices no provider can honour, as `unsupported` (a 400): "required" or a named
 * tool with no tools offered, or a named tool that is not among them.
 */
export function checkToolChoice(request: ChatRequest): void {
  const choice = request.toolChoice;
  if (choice === undefined || choice === "auto" || choice === "none") return;
  const tools = request.tools ?? [];
  if (choice === "required" && tools.length === 0) {
    throw new AiError("unsupported", 'tool_choice: "required" needs at least one tool in tools');
  }
  if (typeof choice === "object" && !tools.some((tool) => tool.name === choice.name)) {
    throw new AiError("unsupported", `tool_choice: no tool in tools is named "${choice.name}"`);
  }
}

/** How a provider writes the conversation: OpenAI sends `content: null` beside tool calls; Workers AI "". */
export interface MessageWireOptions {
  emptyAssistantContent: null | "";
  /** Also name the tool a `tool` message answers (Workers AI's chat templates use it). */
  nameToolResults?: boolean;
}

/** The conversation in OpenAI's message shapes; plain messages stay `{ role, content }`. */
export function wireMessages(
  messages: readonly ChatMessage[],
  options: MessageWireOptions,
): Array<Record<string, unknown>> {
  const names = new Map<string, string>();
  return messages.map((message) => {
    if (message.role === "assistant" && message.toolCalls?.length) {
      for (const call of message.toolCalls) names.set(call.id, call.name);
      return {
        role: "assistant",
        content: message.content === "" ? options.emptyAssistantContent : message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
    if (message.role === "tool") {
      const wire: Record<string, unknown> = { role: "tool", content: message.content };
      if (message.toolCallId !== undefined) {
        wire.tool_call_id = message.toolCallId;
        const name = names.get(message.toolCallId);
        if (options.nameToolResults && name !== undefined) wire.name = name;
      }
      return wire;
    }
    return { role: message.role, content: message.content };
  });
}

/**
 * OpenAI's `tools`: `[{ type: "function", function: { name, description, parameters, strict } }]`.
 * Workers AI's schema requires a `description` ("" when the spec has none) and has no `strict`.
 */
export function wireTools(
  tools: readonly ToolSpec[],
  options: { requireDescription?: boolean; dropStrict?: boolean } = {},
): Array<Record<string, unknown>> {
  return tools.map((tool) => {
    const fn: Record<string, unknown> = { name: tool.name };
    if (tool.description !== undefined || options.requireDescription) fn.description = tool.description ?? "";
    fn.parameters = tool.parameters;
    if (!options.dropStrict && tool.strict !== undefined) fn.strict = tool.strict;
    return { type: "function", function: fn };
  });
}

/** OpenAI's `tool_choice`: "auto" | "none" | "required" | `{ type: "function", function: { name } }`. */
export function wireToolChoice(choice: ToolChoice): unknown {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/**
 * The tool calls in an upstream's `tool_calls` array, in either documented shape. `idFor` names a
 * call the upstream gave no id. A call without a name is a `bad_response`.
 */
export function readToolCalls(
  value: unknown,
  model: string,
  idFor: (index: number, name: string) => string,
): ToolCall[] {
  if (!Array.isArray(value)) return [];
  return value.map((raw: unknown, index) => {
    if (!isRecord(raw)) throw badResponse(`${model} returned a tool call that is not an object`);
    const fn = isRecord(raw.function) ? raw.function : raw;
    const name = fn.name;
    if (typeof name !== "string" || name === "") throw badResponse(`${model} returned a tool call without a name`);
    const id = typeof raw.id === "string" && raw.id !== "" ? raw.id : idFor(index, name);
    return { id, name, arguments: argumentsText(fn.arguments) };
  });
}

/** Arguments as JSON text: a string as sent ("{}" when empty), an object serialised. */
export function argumentsText(value: unknown): string {
  if (typeof value === "string") return value.trim() === "" ? "{}" : value;
  if (value === undefined || value === null) return "{}";
  return JSON.stringify(value);
}
