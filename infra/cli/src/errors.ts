/**
 * What the CLI says when something fails, and its exit codes. Every HTTP failure from the gateway
 * has one body shape, `{ error: { code, message, requestId, details } }`; `describeApiError` turns
 * it into one line: the gateway's message, a hint for what to do next, and the request id where
 * quoting it helps. The exit codes are documented in docs/cli.md; scripts may rely on them.
 */
import { type ErrorCode, STATUS_BY_CODE } from "@crispy/contracts/errors";

export const EXIT = {
  ok: 0,
  /** The command ran but part of it failed (a file that did not ingest, a tool that errored). */
  failed: 1,
  /** Bad arguments, or a request the gateway refused as invalid (400, 405, 409, 413, 415). */
  usage: 2,
  /** No gateway URL or key: run `crispy login`. */
  notConfigured: 3,
  /** The key was refused (401) or lacks a scope or tenant (403). */
  auth: 4,
  /** Something named does not exist (404). */
  notFound: 5,
  /** Rate limited or over the token budget (429). */
  limited: 6,
  /** The gateway failed (5xx) or could not be reached. */
  unavailable: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line (plus, with --json, as a JSON object on stdout). */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying, from Retry-After. */
  readonly retryAfter: number | undefined;

  constructor(
    message: string,
    options: {
      exitCode: ExitCode;
      code?: string;
      hint?: string;
      status?: number;
      requestId?: string;
      retryAfter?: number;
    },
  ) {
    super(message);
    this.exitCode = options.exitCode;
    this.code = options.code ?? "cli_error";
    this.hint = options.hint;
    this.status = options.status;
    this.requestId = options.requestId;
    this.retryAfter = options.retryAfter;
  }

  /** The one line printed on stderr. */
  line(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`;
    const hint = this.hint ? ` — ${this.hint}` : "";
    return `${this.code}${status}: ${this.message}${hint}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.status !== undefined ? { status: this.status } : {}),
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.requestId ? { requestId: this.requestId } : {}),
        ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}),
        exitCode: this.exitCode,
      },
    };
  }
}

/** A failed response as the gateway reported it. */
export interface ApiFailure {
  status: number;
  /** The error body's code, or null when the body was not the platform's error shape. */
  code: string | null;
  message: string;
  requestId: string | null;
  details: Record<string, unknown> | undefined;
  /** Seconds, from the Retry-After header. */
  retryAfter: number | null;
}

export function statusOfCode(code: string): number {
  return STATUS_BY_CODE[code as ErrorCode] ?? 500;
}

export function exitCodeFor(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 429) return EXIT.limited;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.usage;
}

function seconds(value: number): string {
  return value === 1 ? "1 s" : `${value} s`;
}

function bytes(value: unknown): string | null {
  if (typeof value !== "number") return null;
  if (value >= 1_048_576) return `${Math.round((value / 1_048_576) * 10) / 10} MiB`;
  if (value >= 1024) return `${Math.round(value / 1024)} KiB`;
  return `${value} bytes`;
}

/** What to do about a failure: one short sentence, by error code (then by status). */
function hintFor(failure: ApiFailure): string | undefined {
  const quote = failure.requestId ? `quote request id ${failure.requestId} if it persists` : "retry later";
  const retry = failure.retryAfter === null ? "retry shortly" : `retry after ${seconds(failure.retryAfter)}`;
  switch (failure.code) {
    case "unauthorized":
      return "the key is missing, unknown, expired or revoked: run `crispy login` with a valid key";
    case "forbidden": {
      const scope = failure.details?.requiredScope;
      if (typeof scope === "string")
        return `use a key with the "${scope}" scope (an admin can create one: crispy keys create --scopes ${scope},…)`;
      return "this key may not do that (its tenant, scopes, allowed origins or the tenant's features say no)";
    }
    case "tenant_required":
      return "the gateway could not tell the tenant: log in with a key of that tenant";
    case "tenant_unknown":
      return "no such tenant on this gateway: check --url and the key";
    case "not_found":
      return "check the id or name (ids are per tenant: another tenant's ids are not found)";
    case "method_not_allowed":
      return "this gateway does not offer that; is it an older version than the CLI?";
    case "conflict":
      return "something else changed it at the same time: retry";
    case "payload_too_large": {
      const limit = bytes(failure.details?.limitBytes ?? failure.details?.limit);
      return limit ? `the limit is ${limit}: send less` : "the request is over a limit: send less";
    }
    case "unsupported_media_type":
      return "send a supported type (.txt .md .html .json .csv .tsv .pdf)";
    case "bad_request":
    case "invalid_json":
    case "validation_failed":
      return "fix the input named in the message (crispy <command> --help shows the options)";
    case "rate_limited":
      return `too many requests: ${retry}`;
    case "budget_exceeded":
      return `the tenant's token budget is spent; ${failure.retryAfter === null ? "it resets at the window's end" : `it resets in ${seconds(failure.retryAfter)}`} (crispy usage shows it)`;
    case "internal":
      return `a bug in the gateway: ${failure.requestId ? `report it with request id ${failure.requestId}` : "report it"}`;
    case "ai_unavailable":
      return `the model provider failed after retries and fallbacks; ${quote}`;
    case "upstream_unavailable":
      return `an internal service is busy or restarting; ${retry}, ${quote}`;
    default:
      break;
  }
  if (failure.status === 401) return "run `crispy login` with a valid key";
  if (failure.status === 429) return retry;
  if (failure.status >= 500) return failure.requestId ? `quote request id ${failure.requestId}` : "retry later";
  return undefined;
}

/** The CliError for a failed response. */
export function describeApiError(failure: ApiFailure): CliError {
  return new CliError(failure.message, {
    exitCode: exitCodeFor(failure.status),
    code: failure.code ?? `http_${failure.status}`,
    status: failure.status,
    ...(failure.requestId ? { requestId: failure.requestId } : {}),
    ...(failure.retryAfter !== null ? { retryAfter: failure.retryAfter } : {}),
    ...withHint(hintFor(failure)),
  });
}

function withHint(hint: string | undefined): { hint?: string } {
  return hint ? { hint } : {};
}

/** A fetch that never got a response: the gateway is down, the URL is wrong, or it timed out. */
export function describeNetworkError(url: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const name = (error as { name?: string }).name;
  const reason =
    name === "TimeoutError" ? "timed out" : (cause?.code ?? cause?.message ?? (error as Error).message ?? "failed");
  return new CliError(`cannot reach ${url}: ${reason}`, {
    exitCode: EXIT.unavailable,
    code: "unreachable",
    hint: "is the gateway running (pnpm dev) and the URL right (crispy login --url …)?",
  });
}
