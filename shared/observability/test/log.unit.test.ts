import { afterEach, describe, expect, it, vi } from "vitest";
import { log, logFieldsOf, traceFrom, traceIdOf, traceparentOf } from "../src/index";

afterEach(() => vi.restoreAllMocks());

describe("traceIdOf / logFieldsOf", () => {
  it("reads the trace id out of the traceparent the gateway hands every callee", () => {
    const trace = traceFrom("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const traceparent = traceparentOf(trace);
    expect(traceIdOf(traceparent)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(logFieldsOf({ tenantId: "acme", requestId: "req-1", traceparent })).toEqual({
      tenantId: "acme",
      requestId: "req-1",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
  });

  it("is '-' for anything that is not a traceparent", () => {
    for (const value of [undefined, null, 42, "", "00-abc", `01${"x".repeat(53)}`]) expect(traceIdOf(value)).toBe("-");
    expect(logFieldsOf({ tenantId: "acme", requestId: "r" }).traceId).toBe("-");
  });

  it("a fresh trace's id survives the round trip", () => {
    const trace = traceFrom(null);
    expect(traceIdOf(traceparentOf(trace))).toBe(trace.traceId);
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("log", () => {
  it("writes one JSON line per call, with the level on the matching console method", () => {
    const info = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const fields = logFieldsOf({ tenantId: "acme", requestId: "req-2", traceparent: traceparentOf(traceFrom(null)) });
    log("info", "request", { ...fields, status: 200 });
    log("error", "boom", { ...fields, code: "internal" });
    expect(info).toHaveBeenCalledTimes(1);
    const line = JSON.parse(info.mock.calls[0]![0] as string);
    expect(line).toEqual({ level: "info", event: "request", ...fields, status: 200 });
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toMatchObject({
      level: "error",
      event: "boom",
      code: "internal",
    });
  });
});
