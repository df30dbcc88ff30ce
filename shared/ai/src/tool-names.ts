/**
 * Tool names a model API can take. OpenAI and Workers AI accept function names of
 * `^[A-Za-z0-9_-]{1,64}$`; the platform's registry also has names that are not (a remote MCP
 * server's tools are `<server>.<tool>`). `withWireToolNames` wraps a remote provider so that, per
 * request, every offered name that does not fit gets a wire name (`.` → `__`, any other character
 * → `_`, cut to 64 with a hash suffix, made unique among the request's names) in `tools`, a named
 * `toolChoice` and the conversation's earlier tool calls, and every tool call the model answers
 * with is renamed back. Callers above the provider only ever see registry names; a request whose
 * names all fit passes through untouched.
 */
import type { AiProvider, ChatMessage, ChatRequest, ChatResult, ToolCall } from "./types";

const WIRE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Registry name ↔ wire name for the names of one request that needed one. */
export interface WireNames {
  toWire: Map<string, string>;
  fromWire: Map<string, string>;
}

/** The wire names a request needs, or null when every name fits as it is. */
export function wireNamesFor(request: ChatRequest): WireNames | null {
  const names = new Set<string>();
  for (const tool of request.tools ?? []) names.add(tool.name);
  for (const message of request.messages) for (const call of message.toolCalls ?? []) names.add(call.name);
  const misfits = [...names].filter((name) => !WIRE_NAME.test(name));
  if (misfits.length === 0) return null;
  const taken = new Set([...names].filter((name) => WIRE_NAME.test(name)));
  const toWire = new Map<string, string>();
  const fromWire = new Map<string, string>();
  for (const name of misfits) {
    const wire = unique(baseWireName(name), taken);
    taken.add(wire);
    toWire.set(name, wire);
    fromWire.set(wire, name);
  }
  return { toWire, fromWire };
}

function baseWireName(name: string): string {
  const base = name.replace(/\./g, "__").replace(/[^A-Za-z0-9_-]/g, "_") || "tool";
  return base.length <= 64 ? base : `${base.slice(0, 55)}_${fnv32(name)}`;
}

function unique(base: string, taken: ReadonlySet<string>): string {
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) candidate = `${base.slice(0, 64 - String(n).length - 1)}_${n}`;
  return candidate;
}

function fnv32(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}

/** The request with wire names in place of registry names. */
export function toWireRequest(request: ChatRequest, names: WireNames): ChatRequest {
  const rename = (name: string) => names.toWire.get(name) ?? name;
  const choice = request.toolChoice;
  return {
    ...request,
    ...(request.tools ? { tools: request.tools.map((tool) => ({ ...tool, name: rename(tool.name) })) } : {}),
    ...(typeof choice === "object" ? { toolChoice: { name: rename(choice.name) } } : {}),
    messages: request.messages.map(
      (message): ChatMessage =>
        message.toolCalls?.length
          ? { ...message, toolCalls: message.toolCalls.map((call) => ({ ...call, name: rename(call.name) })) }
          : message,
    ),
  };
}

/** A call the model made, under its registry name again. */
export function fromWireCall(call: ToolCall, names: WireNames): ToolCall {
  const name = names.fromWire.get(call.name);
  return name === undefined ? call : { ...call, name };
}

/** `provider` with wire-safe tool names on every chat call (embeddings and speech are untouched). */
export function withWireToolNames(provider: AiProvider): AiProvider {
  return {
    name: provider.name,
    embed: (request, meta) => provider.embed(request, meta),
    speech: (request, meta) => provider.speech(request, meta),
    async chat(request, meta): Promise<ChatResult> {
      const names = wireNamesFor(request);
      if (names === null) return provider.chat(request, meta);
      const result = await provider.chat(toWireRequest(request, names), meta);
      return result.toolCalls?.length
        ? { ...result, toolCalls: result.toolCalls.map((call) => fromWireCall(call, names)) }
        : result;
    },
    chatStream(request, meta) {
      const names = wireNamesFor(request);
      if (names === null) return provider.chatStream(request, meta);
      const events = provider.chatStream(toWireRequest(request, names), meta);
      return (async function* () {
        for await (const event of events) {
          yield event.type === "tool_call" ? { ...event, call: fromWireCall(event.call, names) } : event;
        }
      })();
    },
  };
}
