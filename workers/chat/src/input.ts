/**
 * The shape of what a caller hands the chat worker's RPC methods. The gateway validated it with
 * the HTTP contracts already; these checks are for a sibling caller with a bug: a wrong shape is a
 * "bad_request" naming the field, never an exception deep inside a turn.
 */
import { CHAT_LIMITS, SESSION_ID_PATTERN, type StreamFormat } from "@crispy/contracts";

const ROLES = new Set(["system", "user", "assistant", "tool"]);
const MAX_MODEL_CHARS = 128;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, max: number): boolean {
  return value === undefined || (typeof value === "string" && value.length <= max);
}

/** What is wrong with a turn's input (`stream`, `complete`), or null. */
export function turnInputProblem(input: unknown): string | null {
  if (!isRecord(input)) return "input must be an object";
  const { message, sessionId, model, system, rag } = input;
  if (typeof message !== "string" || message.trim() === "" || message.length > CHAT_LIMITS.maxMessageChars) {
    return `input.message must be 1-${CHAT_LIMITS.maxMessageChars} characters`;
  }
  if (sessionId !== undefined && (typeof sessionId !== "string" || !SESSION_ID_PATTERN.test(sessionId))) {
    return "input.sessionId must be 1-64 characters of A-Z a-z 0-9 _ -";
  }
  if (!optionalString(model, MAX_MODEL_CHARS))
    return `input.model must be a model id of at most ${MAX_MODEL_CHARS} characters`;
  if (!optionalString(system, CHAT_LIMITS.maxSystemChars)) {
    return `input.system must be at most ${CHAT_LIMITS.maxSystemChars} characters`;
  }
  if (rag !== undefined && typeof rag !== "boolean") return "input.rag must be a boolean";
  const { tools } = input;
  if (
    tools !== undefined &&
    typeof tools !== "boolean" &&
    !(Array.isArray(tools) && tools.length > 0 && tools.every((name) => typeof name === "string"))
  ) {
    return "input.tools must be a boolean or a non-empty list of tool names";
  }
  return null;
}

/** What is wrong with a stream format, or null. */
export function formatProblem(format: unknown): string | null {
  return format === "events" || format === "openai" ? null : 'format must be "events" or "openai"';
}

/** What is wrong with the shape of an OpenAI-style body (`completions`), or null. */
export function completionBodyProblem(body: unknown): string | null {
  if (!isRecord(body)) return "body must be an object";
  const { messages, model, session_id: sessionId } = body;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > CHAT_LIMITS.maxMessages) {
    return `messages must be an array of 1-${CHAT_LIMITS.maxMessages} messages`;
  }
  for (const [index, message] of messages.entries()) {
    if (!isRecord(message) || typeof message.role !== "string" || !ROLES.has(message.role)) {
      return `messages.${index}.role must be one of system, user, assistant, tool`;
    }
    if (typeof message.content !== "string" || message.content.length > CHAT_LIMITS.maxMessageChars) {
      return `messages.${index}.content must be text of at most ${CHAT_LIMITS.maxMessageChars} characters`;
    }
  }
  if (!optionalString(model, MAX_MODEL_CHARS))
    return `model must be a model id of at most ${MAX_MODEL_CHARS} characters`;
  if (sessionId !== undefined && (typeof sessionId !== "string" || !SESSION_ID_PATTERN.test(sessionId))) {
    return "session_id must be 1-64 characters of A-Z a-z 0-9 _ -";
  }
  return null;
}

/** Narrows a validated format. */
export function asFormat(format: unknown): StreamFormat {
  return format === "openai" ? "openai" : "events";
}
