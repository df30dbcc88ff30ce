/**
 * A small client for the gateway's operator API, used by `pnpm keys` and `pnpm dev`.
 * The gateway URL and operator token default to the local dev mesh's (`.dev/operator-token`).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const repoRoot = join(import.meta.dirname, "../..");
export const devDir = join(repoRoot, ".dev");
export const operatorTokenPath = join(devDir, "operator-token");

export interface OperatorTarget {
  url: string;
  token: string;
}

export function defaultTarget(overrides: { url?: string; token?: string } = {}): OperatorTarget {
  const url = overrides.url ?? process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const token =
    overrides.token ??
    process.env.OPERATOR_TOKEN ??
    (existsSync(operatorTokenPath) ? readFileSync(operatorTokenPath, "utf8").trim() : "");
  if (!token)
    throw new Error(
      "no operator token: pass --token, set OPERATOR_TOKEN, or run `pnpm dev` once to create .dev/operator-token",
    );
  return { url: url.replace(/\/+$/, ""), token };
}

/** Calls the operator API; throws with the gateway's error message on failure. */
export async function operatorCall<T>(
  target: OperatorTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      const parsed = JSON.parse(text) as { error?: { code: string; message: string } };
      if (parsed.error) message = `${parsed.error.code}: ${parsed.error.message}`;
    } catch {}
    throw new Error(`${method} ${path} → ${response.status} ${message}`);
  }
  return JSON.parse(text) as T;
}
