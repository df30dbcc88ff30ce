/**
 * Exceptions from internal workers: the gateway recognises them (workerd marks them `remote`) and
 * answers 503 upstream_unavailable with Retry-After, never a bare 500.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorResponse, HttpError, upstreamFailure } from "../src/http/errors";

async function thrownBy(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("upstream failures", () => {
  it("an exception thrown inside another worker is an upstream failure: 503 with Retry-After", async () => {
    // Calling a method the callee does not have (as against an older release) throws in the callee.
    const rag = env.RAG as unknown as { noSuchMethod(): Promise<unknown> };
    const error = await thrownBy(() => rag.noSuchMethod());
    const mapped = upstreamFailure(error);
    expect(mapped).toBeInstanceOf(HttpError);
    const response = errorResponse(mapped!.code, mapped!.message, "req-1", undefined, mapped!.headers);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: { code: "upstream_unavailable", requestId: "req-1" } });
  });

  it("runtime-raised overloads wait longer; the gateway's own exceptions stay internal errors", () => {
    const overloaded = Object.assign(new Error("Durable Object is overloaded"), { overloaded: true });
    expect(upstreamFailure(overloaded)?.headers).toEqual({ "retry-after": "5" });
    expect(upstreamFailure(new TypeError("x is undefined"))).toBeNull();
    expect(upstreamFailure("a string")).toBeNull();
  });
});
