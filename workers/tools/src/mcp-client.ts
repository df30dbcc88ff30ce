/**
 * One short exchange with a remote MCP server (Streamable HTTP), with the SDK's Client: connect
 * (initialize), the request (tools/list pages, or one tools/call), close. Nothing is kept between
 * exchanges, so no session or stream outlives the RPC call that made it.
 *
 * Invariants:
 * - Every request the SDK makes goes through `guardedFetch`: its URL passes the address guard
 *   first (address-guard.ts, the HTTP tools' guard); fetch never follows a redirect itself
 *   (`redirect: "manual"`) — the SDK follows only same-origin ones, each again through this
 *   fetch — and the bearer secret goes only to the server's own origin.
 * - The standalone GET stream (server-initiated messages) is never opened: the guarded fetch
 *   answers a GET with 405 itself, which the SDK takes as "not offered". A one-shot client needs
 *   no server-initiated messages, and nothing is left listening after the exchange.
 * - One deadline (the server's `timeoutMs`) covers the whole exchange: it aborts every fetch and
 *   the exchange ends "timeout" at once, whatever the server or the SDK are doing.
 * - Each response body is counted as the SDK reads it (JSON or SSE); past `maxResponseBytes` the
 *   exchange is aborted and ends "too_large".
 * - Tool output schemas are compiled with @cfworker/json-schema (CfWorkerJsonSchemaValidator):
 *   the SDK's default validator, ajv, generates code with `new Function`, which workerd forbids.
 */
import type { Tool, CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { MCP_LIMITS } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { type LoopbackPolicy, checkToolUrl } from "./address-guard";

export type { CallToolResult, Tool };

/** Where and how to reach a server for one exchange. */
export interface McpEndpoint {
  url: string;
  /** The opened bearer secret; null when the server has no auth. */
  secret: string | null;
  timeoutMs: number;
  maxResponseBytes: number;
  loopback: LoopbackPolicy;
}

export type Exchange<T> =
  | { ok: true; value: T }
  | { ok: false; kind: "timeout" | "too_large" | "refused" | "failed"; message: string };

/** Characters of a server's error text quoted in a failure message. */
const QUOTED_CHARS = 300;
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const CLIENT_INFO = { name: "crispy-tools", version: "1.0.0" };

/** Why an exchange was aborted (the controller's reason), so the outcome names the cause. */
class Stop extends Error {
  constructor(
    readonly kind: "timeout" | "too_large" | "refused",
    message: string,
  ) {
    super(message);
  }
}

/** The server's tools (every page up to MCP_LIMITS.maxListPages), and whether pages were left unread. */
export function listRemoteTools(endpoint: McpEndpoint): Promise<Exchange<{ tools: Tool[]; more: boolean }>> {
  return exchange(endpoint, async (client, options) => {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MCP_LIMITS.maxListPages; page++) {
      const result = await client.listTools(cursor === undefined ? undefined : { cursor }, options);
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return { tools, more: cursor !== undefined };
  });
}

/** One `tools/call` of the server's tool `name`. */
export function callRemoteTool(
  endpoint: McpEndpoint,
  name: string,
  input: Record<string, unknown>,
): Promise<Exchange<CallToolResult>> {
  return exchange(endpoint, async (client, options) => {
    const result = await client.callTool({ name, arguments: input }, undefined, options);
    return result as CallToolResult;
  });
}

async function exchange<T>(
  endpoint: McpEndpoint,
  use: (client: Client, options: { signal: AbortSignal; timeout: number }) => Promise<T>,
): Promise<Exchange<T>> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Stop("timeout", `no answer within the timeout of ${endpoint.timeoutMs} ms`)),
    endpoint.timeoutMs,
  );
  const transport = new StreamableHTTPClientTransport(new URL(endpoint.url), {
    fetch: guardedFetch(endpoint, controller),
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      reconnectionDelayGrowFactor: 1,
    },
  });
  const client = new Client(CLIENT_INFO, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  // Transport and protocol errors also reject the pending request; the outcome reports them.
  client.onerror = () => undefined;
  const options = { signal: controller.signal, timeout: endpoint.timeoutMs };
  try {
    const value = await abortable(
      (async () => {
        await client.connect(transport, options);
        const result = await use(client, options);
        // A stateful server is told the session is over (a stateless one gave no session id).
        if (transport.sessionId !== undefined) await transport.terminateSession().catch(() => undefined);
        return result;
      })(),
      controller.signal,
    );
    return { ok: true, value };
  } catch (error) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof Stop) return { ok: false, kind: reason.kind, message: reason.message };
    return { ok: false, kind: "failed", message: describe(error) };
  } finally {
    clearTimeout(timer);
    controller.abort();
    await client.close().catch(() => undefined);
  }
}

/** The fetch the SDK's transport uses: guarded, capped, under the exchange's deadline. */
function guardedFetch(
  endpoint: McpEndpoint,
  controller: AbortController,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const origin = new URL(endpoint.url).origin;
  return async (input, init) => {
    const method = (init?.method ?? "GET").toUpperCase();
    if (method === "GET") return new Response(null, { status: 405 });
    const target = input instanceof Request ? input.url : String(input);
    const verdict = checkToolUrl(target, endpoint.loopback);
    if (!verdict.ok) {
      const stop = new Stop("refused", `a request to ${safeUrl(target)} was refused: it ${verdict.reason}`);
      controller.abort(stop);
      throw stop;
    }
    const headers = new Headers(init?.headers);
    headers.set("user-agent", "crispy-tools/1");
    headers.delete("authorization");
    if (endpoint.secret !== null && verdict.url.origin === origin) {
      headers.set("authorization", `Bearer ${endpoint.secret}`);
    }
    const response = await fetch(verdict.url, {
      method,
      headers,
      body: init?.body ?? null,
      redirect: "manual",
      signal: controller.signal,
    });
    return capped(response, endpoint.maxResponseBytes, controller);
  };
}

/** `response` with its body counted: past `maxBytes` the read errors and the exchange is aborted. */
function capped(response: Response, maxBytes: number, controller: AbortController): Response {
  const tooLarge = () =>
    new Stop("too_large", `a response was larger than ${maxBytes} bytes; it was cut off and discarded`);
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body?.cancel().catch(() => undefined);
    const stop = tooLarge();
    controller.abort(stop);
    throw stop;
  }
  if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
  let total = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, sink) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        const stop = tooLarge();
        controller.abort(stop);
        sink.error(stop);
        return;
      }
      sink.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** `promise`, or a rejection as soon as `signal` aborts (whether or not the SDK noticed). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
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

/** A failure of the SDK or the server, as a model and an operator can read it. */
function describe(error: unknown): string {
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
    const detail = errorMessage(error)
      .replace(/^Streamable HTTP error: /, "")
      .replace(/^Error POSTing to endpoint: ?/, "")
      .trim();
    return `answered HTTP ${error.code}${detail ? `: ${detail.slice(0, QUOTED_CHARS)}` : ""}`;
  }
  const message = errorMessage(error).trim().slice(0, QUOTED_CHARS);
  return message === "" ? "the exchange failed" : message;
}

/** A URL for a message: without credentials or query. */
function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "an invalid URL";
  }
}
