/**
 * Narrowing helpers for reading untyped JSON from upstreams (provider answers are `unknown` until
 * checked here), plus the OpenAI-style pieces both remote providers read: the first choice, a
 * `usage` object with snake_case token counts, and streamed tool-call fragments.
 */
import { badResponse } from "./errors";
import type { Usage } from "./types";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isMatrix(value: unknown): value is number[][] {
  return Array.isArray(value) && value.every((row) => Array.isArray(row) && row.every((x) => typeof x === "number"));
}

/** Parses one stream event's data as a JSON object, or throws `bad_response`. */
export function parseObject(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    if (isRecord(value)) return value;
  } catch {
    // reported below
  }
  throw badResponse(`not a JSON object: ${data.slice(0, 100)}`);
}

export function firstChoice(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const choice: unknown = Array.isArray(value.choices) ? value.choices[0] : undefined;
  return isRecord(choice) ? choice : undefined;
}

/** `{ prompt_tokens, completion_tokens, total_tokens }` → `Usage`, when present and numeric. */
export function usageOf(value: unknown): Usage | undefined {
  if (!isRecord(value) || !isRecord(value.usage)) return undefined;
  const promptTokens = Number(value.usage.prompt_tokens ?? 0);
  const completionTokens = Number(value.usage.completion_tokens ?? 0);
  const totalTokens = Number(value.usage.total_tokens ?? promptTokens + completionTokens);
  if (![promptTokens, completionTokens, totalTokens].every(Number.isFinite)) return undefined;
  return { promptTokens, completionTokens, totalTokens };
}

/** `choices[0].finish_reason` (or a top-level `finish_reason`), when it is a string. */
export function finishReasonOf(value: Record<string, unknown>): string | undefined {
  const reason = firstChoice(value)?.finish_reason ?? value.finish_reason;
  return typeof reason === "string" ? reason : undefined;
}

/** One streamed fragment of a tool call: `index` says which call; the other fields arrive in pieces. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  /** The next piece of the arguments' JSON text. */
  arguments?: string;
}

/**
 * The tool-call fragments of one stream chunk: OpenAI's `choices[0].delta.tool_calls[]`, each
 * `{ index, id?, function: { name?, arguments? } }` (id and name come first, then the arguments
 * in pieces). A fragment without a numeric index counts as the index of its position.
 */
export function toolCallDeltasOf(chunk: Record<string, unknown>): ToolCallDelta[] | undefined {
  const delta = firstChoice(chunk)?.delta;
  const calls = isRecord(delta) ? delta.tool_calls : undefined;
  if (!Array.isArray(calls) || calls.length === 0) return undefined;
  const deltas: ToolCallDelta[] = [];
  calls.forEach((raw: unknown, position) => {
    if (!isRecord(raw)) return;
    const fn = isRecord(raw.function) ? raw.function : {};
    const fragment: ToolCallDelta = { index: typeof raw.index === "number" ? raw.index : position };
    if (typeof raw.id === "string" && raw.id !== "") fragment.id = raw.id;
    if (typeof fn.name === "string" && fn.name !== "") fragment.name = fn.name;
    if (typeof fn.arguments === "string") fragment.arguments = fn.arguments;
    deltas.push(fragment);
  });
  return deltas;
}

/** An embeddings answer's matrix, checked to hold one vector per text of the requested width. */
export function readVectors(data: unknown, model: string, texts: number, dimensions?: number): number[][] {
  if (!isMatrix(data) || data.length !== texts) {
    throw badResponse(`${model} did not return one embedding per text`);
  }
  const width = data[0]?.length;
  if (dimensions !== undefined && width !== undefined && width !== dimensions) {
    throw badResponse(`${model} returns ${width}-dimensional vectors, not the ${dimensions} requested`);
  }
  return data;
}
