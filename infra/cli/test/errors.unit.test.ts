/** Every error code the gateway can answer becomes one line with a hint and the exit code of its kind. */
import { ERROR_CODES } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { type ApiFailure, describeApiError, EXIT, statusOfCode } from "../src/errors";
import { failureOf } from "../src/http";

function failure(code: string, overrides: Partial<ApiFailure> = {}): ApiFailure {
  return {
    status: statusOfCode(code),
    code,
    message: `the gateway's message for ${code}`,
    requestId: "req-123",
    details: undefined,
    retryAfter: null,
    ...overrides,
  };
}

describe("describeApiError", () => {
  it.each(ERROR_CODES)("%s: the message, a hint and the exit code of its status", (code) => {
    const error = describeApiError(failure(code));
    const status = statusOfCode(code);
    expect(error.line()).toMatch(new RegExp(`^${code} \\(HTTP ${status}\\): the gateway's message for ${code} — \\S`));
    expect(error.hint?.length).toBeGreaterThan(10);
    const expected =
      status === 401 || status === 403
        ? EXIT.auth
        : status === 404
          ? EXIT.notFound
          : status === 429
            ? EXIT.limited
            : status >= 500
              ? EXIT.unavailable
              : EXIT.usage;
    expect(error.exitCode).toBe(expected);
  });

  it("says to log in again on 401", () => {
    expect(describeApiError(failure("unauthorized")).line()).toContain("run `crispy login`");
  });

  it("names the missing scope on 403", () => {
    const error = describeApiError(failure("forbidden", { details: { requiredScope: "ingest", scopes: ["chat"] } }));
    expect(error.hint).toContain('"ingest" scope');
  });

  it("gives Retry-After on 429", () => {
    expect(describeApiError(failure("rate_limited", { retryAfter: 7 })).hint).toContain("retry after 7 s");
    expect(describeApiError(failure("budget_exceeded", { retryAfter: 3600 })).hint).toContain("resets in 3600 s");
  });

  it("gives the limit on 413", () => {
    const error = describeApiError(failure("payload_too_large", { details: { limitBytes: 10 * 1_048_576 } }));
    expect(error.hint).toContain("10 MiB");
  });

  it.each(["internal", "ai_unavailable", "upstream_unavailable"])("quotes the request id on %s", (code) => {
    const error = describeApiError(failure(code, { requestId: "req-quote-me" }));
    expect(error.hint).toContain("req-quote-me");
    expect(error.toJSON()).toMatchObject({ error: { requestId: "req-quote-me", exitCode: EXIT.unavailable } });
  });
});

describe("failureOf", () => {
  it("reads the platform's error shape and Retry-After", async () => {
    const response = Response.json(
      { error: { code: "rate_limited", message: "slow down", requestId: "r-1", details: { limit: 120 } } },
      { status: 429, headers: { "retry-after": "4", "x-request-id": "r-1" } },
    );
    expect(await failureOf(response)).toEqual({
      status: 429,
      code: "rate_limited",
      message: "slow down",
      requestId: "r-1",
      details: { limit: 120 },
      retryAfter: 4,
    });
  });

  it("still says something useful about a body that is not the platform's (a proxy's HTML page)", async () => {
    const response = new Response("<html><body>Bad Gateway</body></html>", { status: 502, statusText: "Bad Gateway" });
    const error = describeApiError(await failureOf(response));
    expect(error.code).toBe("http_502");
    expect(error.message).toContain("Bad Gateway");
    expect(error.exitCode).toBe(EXIT.unavailable);
  });
});
