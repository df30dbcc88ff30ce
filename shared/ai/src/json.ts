/**
 * Narrowing helpers for reading untyped JSON from upstreams (provider answers are `unknown` until
 * checked here), plus the OpenAI-style pieces both remote providers read: the first choice and a
 * `usage` object with snake_case token counts.
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
