/**
 * The CLI's HTTP client for the gateway: bearer auth, JSON in and out, and every failure turned
 * into a CliError (errors.ts) — the platform's error body when there is one, the bare status
 * otherwise, and a network error when there is no response at all.
 */
import { type ApiFailure, describeApiError, describeNetworkError } from "./errors";

const VERSION = "0.1.0";
/** Time for an ordinary (non-streaming) request, headers and body. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** A JSON body. */
  json?: unknown;
  /** Any other body (FormData for uploads); fetch sets its content type. */
  body?: FormData;
  /** Bearer token in place of the API key (the operator API). */
  token?: string;
  signal?: AbortSignal;
  /** No timeout: the caller reads a long stream and passes its own signal. */
  stream?: boolean;
}

export class ApiClient {
  readonly url: string;
  readonly #key: string;

  constructor(url: string, key: string) {
    this.url = url;
    this.#key = key;
  }

  /** Sends a request; resolves with the response when it is 2xx, throws a CliError otherwise. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const target = new URL(`${this.url}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) target.searchParams.set(name, String(value));
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.token ?? this.#key}`,
      "user-agent": `crispy-cli/${VERSION}`,
      accept: options.stream ? "text/event-stream, application/json" : "application/json",
    };
    if (options.json !== undefined) headers["content-type"] = "application/json";
    const signals = [options.signal, options.stream ? undefined : AbortSignal.timeout(REQUEST_TIMEOUT_MS)].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers,
        body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw describeNetworkError(this.url, error);
    }
    if (!response.ok) throw describeApiError(await failureOf(response));
    return response;
  }

  /** A JSON request; resolves with the parsed 2xx body. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw describeApiError({
        status: 502,
        code: "bad_response",
        message: `${method} ${path} answered ${response.status} with a body that is not JSON`,
        requestId: response.headers.get("x-request-id"),
        details: undefined,
        retryAfter: null,
      });
    }
  }
}

/** Reads a failed response: the platform's `{ error: { … } }` shape, or whatever the body says. */
export async function failureOf(response: Response): Promise<ApiFailure> {
  const text = await response.text().catch(() => "");
  const retry = Number(response.headers.get("retry-after"));
  const failure: ApiFailure = {
    status: response.status,
    code: null,
    message: `HTTP ${response.status} ${response.statusText}`.trim(),
    requestId: response.headers.get("x-request-id"),
    details: undefined,
    retryAfter: Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : null,
  };
  try {
    const body = JSON.parse(text) as { error?: Record<string, unknown> };
    const error = body.error;
    if (error && typeof error.code === "string" && typeof error.message === "string") {
      failure.code = error.code;
      failure.message = error.message;
      if (typeof error.requestId === "string") failure.requestId = error.requestId;
      if (typeof error.details === "object" && error.details !== null)
        failure.details = error.details as Record<string, unknown>;
    }
  } catch {
    const snippet = text.replace(/\s+/g, " ").trim().slice(0, 120);
    if (snippet) failure.message = `${failure.message}: ${snippet}`;
  }
  return failure;
}
