/**
 * The local model's tool rule: a deterministic, offline stand-in for a model's decision to call
 * tools, so a whole tool loop can be tested without an account. It applies when tools are
 * offered and toolChoice is not "none":
 *
 * - The last message is a tool result (or several): the answer is text reporting them, one
 *   `Tool <name> returned: <result, whitespace collapsed, ≤ 200 chars>.` per trailing result.
 * - Otherwise every offered tool whose exact name appears as a whole word (a dotted MCP name
 *   like `docs.echo` is one word, and `echo` is not found inside it) in the last user
 *   message is called, in order of appearance, with the first JSON object that follows its name
 *   (before the next named tool) as arguments, else `{}`. `parallelToolCalls: false` keeps the
 *   first; a named toolChoice calls exactly that tool; "required" with no tool named calls the
 *   first offered tool; "auto" with no tool named gives the usual text answer (`undefined` here).
 * - `local/tool-loop` calls the first offered tool (or the named one) on every answer, even after
 *   tool results — for tests of a caller's step bound.
 *
 * Call ids are `toolCallId(conversation length, index, name)`: stable, unique per conversation.
 */
import { toolCallId } from "../tool-wire";
import type { ChatMessage, ChatRequest, ToolCall, ToolSpec } from "../types";

const MAX_RESULT_CHARS = 200;

/** What the tool rule decides: tool calls, a report of tool results, or nothing (answer as usual). */
export type ToolPlan = { calls: ToolCall[] } | { report: string } | undefined;

export function planTools(request: ChatRequest, loop: boolean): ToolPlan {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? "auto";
  if (tools.length === 0 || choice === "none") return undefined;
  const { messages } = request;
  const named = typeof choice === "object" ? tools.find((tool) => tool.name === choice.name) : undefined;
  const question = lastUserText(messages);
  const mentions = mentionsIn(question, tools);
  const argsOf = (tool: ToolSpec) => mentions.find((mention) => mention.tool === tool)?.arguments ?? "{}";
  const call = (tool: ToolSpec, index: number, args: string): ToolCall => ({
    id: toolCallId(messages.length, index, tool.name),
    name: tool.name,
    arguments: args,
  });

  const first = named ?? tools[0];
  if (loop && first) return { calls: [call(first, 0, argsOf(first))] };
  if (messages.at(-1)?.role === "tool") return { report: reportResults(messages) };
  if (named) return { calls: [call(named, 0, argsOf(named))] };
  if (mentions.length > 0) {
    const chosen = request.parallelToolCalls === false ? mentions.slice(0, 1) : mentions;
    return { calls: chosen.map((mention, index) => call(mention.tool, index, mention.arguments)) };
  }
  if (choice === "required" && first) return { calls: [call(first, 0, "{}")] };
  return undefined;
}

interface Mention {
  tool: ToolSpec;
  start: number;
  arguments: string;
}

/** Each offered tool named as a whole word in `text`, by first appearance, with its JSON arguments. */
function mentionsIn(text: string, tools: readonly ToolSpec[]): Mention[] {
  const found: Array<{ tool: ToolSpec; start: number; end: number }> = [];
  for (const tool of tools) {
    const match = wholeWord(tool.name).exec(text);
    if (match) found.push({ tool, start: match.index, end: match.index + tool.name.length });
  }
  found.sort((a, b) => a.start - b.start);
  return found.map((mention, i) => ({
    tool: mention.tool,
    start: mention.start,
    arguments: firstJsonObject(text.slice(mention.end, found[i + 1]?.start ?? text.length)) ?? "{}",
  }));
}

function wholeWord(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![\\p{L}\\p{N}_.-])${escaped}(?![\\p{L}\\p{N}_-])`, "u");
}

/** The first balanced `{…}` in `text` that parses as a JSON object, re-serialised compactly. */
function firstJsonObject(text: string): string | undefined {
  for (let start = text.indexOf("{"); start !== -1; start = text.indexOf("{", start + 1)) {
    const end = balancedEnd(text, start);
    if (end === undefined) continue;
    try {
      const value: unknown = JSON.parse(text.slice(start, end + 1));
      if (typeof value === "object" && value !== null && !Array.isArray(value)) return JSON.stringify(value);
    } catch {
      // not JSON: try the next brace
    }
  }
  return undefined;
}

/** Where the object opened at `start` closes, honouring JSON strings and escapes. */
function balancedEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === "{") {
      depth++;
    } else if (char === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return undefined;
}

/** `Tool <name> returned: <result>.` for each tool result at the end of the conversation. */
function reportResults(messages: readonly ChatMessage[]): string {
  const names = new Map<string, string>();
  for (const message of messages) for (const call of message.toolCalls ?? []) names.set(call.id, call.name);
  let from = messages.length;
  while (from > 0 && messages[from - 1]?.role === "tool") from--;
  return messages
    .slice(from)
    .map((result) => {
      const name = result.toolCallId === undefined ? undefined : names.get(result.toolCallId);
      const who = name ? `Tool ${name}` : `Tool call ${result.toolCallId ?? "(unknown)"}`;
      return `${who} returned: ${shorten(result.content)}.`;
    })
    .join(" ");
}

function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === "user") return message.content;
  }
  return "";
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= MAX_RESULT_CHARS ? flat : `${flat.slice(0, MAX_RESULT_CHARS - 1).trimEnd()}…`;
}
