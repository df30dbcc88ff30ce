/**
 * Running a tenant-defined HTTP tool: the input as query parameters (GET, DELETE) or a JSON body
 * (POST, PUT, PATCH), the tool's headers plus its auth (`Authorization: Bearer <secret>` or
 * `<header>: <secret>`).
 *
 * Invariants:
 * - Every URL requested — the tool's own and each redirect's Location — passes the address guard
 *   (address-guard.ts) first; redirects are followed by hand (`redirect: "manual"`), at most
 *   TOOL_LIMITS.maxRedirects, and the auth header is dropped once a redirect leaves the tool's
 *   origin, so a secret is only ever sent where the tenant pointed it.
 * - One timeout (the tool's `timeoutMs`) covers the whole call, body included: it aborts the fetch
 *   through an AbortController, and the call ends "timeout".
 * - The response body is read up to the tenant's `tools.maxResponseBytes`; past that the read is
 *   cancelled and the call fails, saying so.
 * - A response of 400 or more, a refused redirect or an unreachable host is the tool's failure
 *   (status "error", with a message a model can read); a tool URL the guard now refuses was never
 *   requested, so that is a refusal ("denied").
 */
import { TOOL_LIMITS } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { type LoopbackPolicy, checkToolUrl } from "./address-guard";
import type { StoredHttpTool } from "./http-tool-store";
import { type RunOutcome, failed, refused, succeeded, timedOut } from "./outcome";

/** Characters of an error response's body quoted in the failure message. */
const ERROR_BODY_CHARS = 500;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface HttpRunOptions {
  loopback: LoopbackPolicy;
  /** The decrypted auth secret; null when the tool has no auth. */
  secret: string | null;
  maxResponseBytes: number;
}

class Timeout extends Error {}

export async function runHttpTool(
  tool: StoredHttpTool,
  input: Record<string, unknown>,
  options: HttpRunOptions,
): Promise<RunOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Timeout()), tool.timeoutMs);
  try {
    return await call(tool, input, options, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) {
      return timedOut(`HTTP tool "${tool.name}" did not answer within its timeout of ${tool.timeoutMs} ms`);
    }
    return failed(`HTTP tool "${tool.name}" could not be reached: ${errorMessage(error)}`, "fetch failed");
  } finally {
    clearTimeout(timer);
  }
}

async function call(
  tool: StoredHttpTool,
  input: Record<string, unknown>,
  options: HttpRunOptions,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const first = checkToolUrl(tool.url, options.loopback);
  if (!first.ok) {
    return refused("forbidden", `tool "${tool.name}": url ${first.reason}`, { field: "url" }, "denied");
  }
  let url = first.url;
  let method: string = tool.method;
  const sendsQuery = method === "GET" || method === "DELETE";
  if (sendsQuery) appendQuery(url, input);
  let body: string | undefined = sendsQuery ? undefined : JSON.stringify(input);

  const headers = new Headers(tool.headers);
  headers.set("user-agent", "crispy-tools/1");
  if (!headers.has("accept")) headers.set("accept", "application/json, text/plain;q=0.9, */*;q=0.5");
  if (body !== undefined) headers.set("content-type", "application/json");
  const authHeader = tool.auth ? (tool.auth.type === "bearer" ? "authorization" : tool.auth.header!) : null;
  if (authHeader && options.secret !== null) {
    headers.set(authHeader, tool.auth!.type === "bearer" ? `Bearer ${options.secret}` : options.secret);
  }

  for (let redirects = 0; ; redirects++) {
    const response = await abortable(fetch(url, { method, headers, body, redirect: "manual", signal }), signal);
    if (!REDIRECTS.has(response.status)) return answer(tool, response, options.maxResponseBytes, signal);
    response.body?.cancel().catch(() => undefined);
    const location = response.headers.get("location");
    if (!location) return failed(`HTTP tool "${tool.name}" answered ${response.status} without a Location`);
    if (redirects >= TOOL_LIMITS.maxRedirects) {
      return failed(`HTTP tool "${tool.name}" redirected more than ${TOOL_LIMITS.maxRedirects} times`);
    }
    let target: string;
    try {
      target = new URL(location, url).href;
    } catch {
      return failed(`HTTP tool "${tool.name}" redirected to an invalid Location`);
    }
    const next = checkToolUrl(target, options.loopback);
    if (!next.ok) {
      return failed(
        `HTTP tool "${tool.name}" redirected to ${safeLocation(location, url)}, which was refused: it ${next.reason}`,
        "redirect refused by the address guard",
      );
    }
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
      method = "GET";
      body = undefined;
      headers.delete("content-type");
    }
    if (authHeader && next.url.origin !== url.origin) headers.delete(authHeader);
    url = next.url;
  }
}

/** The final response as the tool's result: its body text, or a failure for a status ≥ 400. */
async function answer(
  tool: StoredHttpTool,
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const read = await readCapped(response, maxBytes, signal);
  if (!read.ok) {
    return failed(
      `HTTP tool "${tool.name}" answered more than ${maxBytes} bytes (the tenant's tools.maxResponseBytes); the response was cut off and discarded`,
      "response too large",
    );
  }
  if (response.status >= 400) {
    const quoted = read.text.trim().slice(0, ERROR_BODY_CHARS);
    return failed(
      `HTTP tool "${tool.name}" answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${quoted ? `: ${quoted}` : ""}`,
      `HTTP ${response.status}`,
    );
  }
  if (response.status >= 300) return failed(`HTTP tool "${tool.name}" answered ${response.status}`);
  return succeeded(read.text === "" ? `HTTP ${response.status} (no body)` : read.text);
}

/** The body as UTF-8 text, or not ok once it passes `maxBytes` (the rest is never read). */
async function readCapped(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<{ ok: true; text: string } | { ok: false }> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body?.cancel().catch(() => undefined);
    return { ok: false };
  }
  if (!response.body) return { ok: true, text: "" };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let total = 0;
  let text = "";
  for (;;) {
    const { done, value } = await abortable(reader.read(), signal);
    if (done) return { ok: true, text: text + decoder.decode() };
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => undefined);
      return { ok: false };
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (whether or not the runtime noticed). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Top-level input fields as query parameters: scalars as text, arrays repeated, objects as JSON. */
function appendQuery(url: URL, input: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(input)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined) continue;
      const text =
        item === null
          ? ""
          : typeof item === "object"
            ? JSON.stringify(item)
            : String(item as string | number | boolean);
      url.searchParams.append(key, text);
    }
  }
}

/** A Location for a message: resolved, without credentials or query. */
function safeLocation(location: string, base: URL): string {
  try {
    const url = new URL(location, base);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "an invalid URL";
  }
}
