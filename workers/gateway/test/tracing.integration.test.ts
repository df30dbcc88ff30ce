/**
 * Tracing across the mesh (docs/observability.md): Server-Timing on every response, the internal
 * workers' spans moved out of the body into the header, the done event's timings, and the
 * request's log line carrying tenant, request and trace ids but never the message.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { IngestJob } from "@crispy/contracts";
import { Spans } from "@crispy/observability";
import { serverTimingOf, takeTimings } from "../src/http/timing";
import { bearer, call, createKey, expectError, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const json = (key: string, extra: Record<string, string> = {}) =>
  bearer(key, { "content-type": "application/json", ...extra });

/** A Server-Timing header as `{ name: ms }`, asserting its syntax (`name;dur=n, …`, total last). */
function spansOf(response: Response): Record<string, number> {
  const header = response.headers.get("server-timing");
  expect(header, "Server-Timing header").toBeTruthy();
  const entries = header!.split(", ").map((entry) => {
    const match = /^([a-z][a-z0-9_.-]*);dur=(\d+(?:\.\d)?)$/.exec(entry);
    expect(match, `Server-Timing entry "${entry}"`).not.toBeNull();
    return [match![1]!, Number(match![2])] as const;
  });
  expect(entries.at(-1)![0]).toBe("total");
  const spans = Object.fromEntries(entries);
  expect(Object.keys(spans)).toHaveLength(entries.length);
  return spans;
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

afterEach(() => vi.restoreAllMocks());

/** The gateway's log lines written while `run` runs (the gateway runs in the test's isolate). */
async function logLinesOf<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  };
  for (const method of ["log", "warn", "error", "info", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation(keep);
  }
  const result = await run();
  vi.restoreAllMocks();
  return { result, lines };
}

describe("Server-Timing and timings", () => {
  it("a non-streamed completion: gateway spans, chat's model span, total; no timings in the body", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await call("/v1/chat/completions", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ messages: [{ role: "user", content: "Count to three" }] }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const spans = spansOf(response);
    expect(Object.keys(spans)).toEqual(["auth", "admission", "chat", "model", "total"]);
    // The chat call contains the model call; the request contains everything.
    expect(spans.model).toBeLessThanOrEqual(spans.chat!);
    expect(spans.chat).toBeLessThanOrEqual(spans.total!);
    expect(spans.auth! + spans.admission! + spans.chat!).toBeLessThanOrEqual(spans.total! + 0.2);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).not.toHaveProperty("timings");
    expect(Object.keys(body).sort()).toEqual(["choices", "created", "id", "model", "object", "usage"]);
  });

  it("a JSON session turn with RAG: the chat call, its retrieval and its model call; no timings in the body", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ message: "What do the tides in Porto do?", stream: false, rag: true, tools: false }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const spans = spansOf(response);
    expect(Object.keys(spans)).toEqual(["auth", "admission", "chat", "retrieve", "model", "total"]);
    expect(spans.retrieve! + spans.model!).toBeLessThanOrEqual(spans.chat! + 0.2);
    expect(JSON.parse(text)).not.toHaveProperty("timings");
  });

  it("a streamed turn: what is known when the stream starts in the header, the model's ttft in the done event", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ message: "Tell me about the tides in Porto", tools: false }),
    });
    expect(response.status).toBe(200);
    const spans = spansOf(response);
    expect(Object.keys(spans)).toEqual(["auth", "admission", "chat", "total"]);
    const events = await readEvents(response);
    const done = JSON.parse(events.find((e) => e.event === "done")!.data) as { timings?: Record<string, number> };
    // The local model sends a token every 50 ms (vitest.config.ts): the first one takes one delay.
    expect(done.timings).toEqual({ ttft: expect.any(Number), model: expect.any(Number) });
    expect(done.timings!.ttft).toBeGreaterThanOrEqual(40);
    expect(done.timings!.model).toBeGreaterThan(done.timings!.ttft!);
    // The header went out before the model's first token.
    expect(spans.total).toBeLessThan(done.timings!.model!);
  });

  it("a streamed completion keeps every chunk OpenAI-shaped (no timings anywhere)", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await call("/v1/chat/completions", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ messages: [{ role: "user", content: "Say hi" }], stream: true }),
    });
    expect(response.status).toBe(200);
    expect(Object.keys(spansOf(response))).toEqual(["auth", "admission", "chat", "total"]);
    const events = await readEvents(response);
    expect(events.at(-1)!.data).toBe("[DONE]");
    for (const event of events.slice(0, -1)) {
      const chunk = JSON.parse(event.data) as Record<string, unknown>;
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(event.data).not.toContain("timings");
    }
  });

  it("a search: the rag call and rag's own spans; the answer's body is unchanged", async () => {
    const { key } = await createKey("acme", ["ingest", "search"]);
    const word = `zq${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
    const ingested = await call("/v1/documents?wait=true", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ title: "Tides", text: `The ${word} tide in Porto rises twice a day, about 3 metres.` }),
    });
    expect(ingested.status).toBe(200);
    expect((await ingested.json<IngestJob>()).state).toBe("done");
    expect(Object.keys(spansOf(ingested))).toEqual(["auth", "admission", "ingest", "total"]);

    const first = await call("/v1/search", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ query: `How high is the ${word} tide?` }),
    });
    expect(first.status).toBe(200);
    expect(Object.keys(spansOf(first))).toEqual(["auth", "admission", "rag", "cache", "retrieve", "model", "total"]);
    const answer = await first.json<Record<string, unknown>>();
    expect(answer).not.toHaveProperty("timings");
    expect(answer).toMatchObject({ found: true, cached: false });

    const again = await call("/v1/search", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ query: `How high is the ${word} tide?` }),
    });
    // A cached answer: no retrieval, no model.
    expect(Object.keys(spansOf(again))).toEqual(["auth", "admission", "rag", "cache", "total"]);
    const cached = await again.json<Record<string, unknown>>();
    expect(cached).toMatchObject({ cached: true });
    expect(cached).not.toHaveProperty("timings");
  });

  it("a tool call: the tools call, the tool run and its audit row", async () => {
    const tenant = registerTenant({ features: { tools: true } });
    const { key } = await createKey(tenant.id, ["tools"]);
    const response = await call("/v1/tools/current_time/execute", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({ input: { timezone: "UTC" } }),
    });
    const body = await response.json<Record<string, unknown>>();
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(Object.keys(spansOf(response))).toEqual(["auth", "admission", "tools", "tool", "audit", "total"]);
    expect(body).toMatchObject({ status: "ok", tool: "current_time" });
    expect(body).not.toHaveProperty("timings");
  });

  it("every response has one, failures and preflights included", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const unknown = await call("/nowhere");
    await expectError(unknown, 404, "not_found");
    expect(Object.keys(spansOf(unknown))).toEqual(["total"]);

    const noKey = await call("/v1/tenant", { headers: { "x-tenant-id": "acme" } });
    await expectError(noKey, 401, "unauthorized");
    expect(Object.keys(spansOf(noKey))).toEqual(["auth", "total"]);

    const badJson = await call("/v1/chat", { method: "POST", headers: json(key), body: "{not json" });
    await expectError(badJson, 400, "invalid_json");
    expect(Object.keys(spansOf(badJson))).toEqual(["auth", "admission", "total"]);

    const wrongMethod = await call("/v1/tenant", { method: "DELETE", headers: bearer(key) });
    await expectError(wrongMethod, 405, "method_not_allowed");
    expect(spansOf(wrongMethod)).toHaveProperty("total");

    const preflight = await call("/v1/chat", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", host: "acme.localhost" },
    });
    expect(Object.keys(spansOf(preflight))).toEqual(["total"]);
  });

  it("lets an allowed origin read it (exposed, and Timing-Allow-Origin for the Resource Timing API)", async () => {
    const { key } = await createKey("acme", ["chat"]);
    const response = await call("/v1/tenant", { headers: bearer(key, { origin: "http://localhost:5173" }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-expose-headers")).toContain("server-timing");
    expect(response.headers.get("timing-allow-origin")).toBe("http://localhost:5173");
    expect(Object.keys(spansOf(response))).toEqual(["auth", "admission", "total"]);
  });

  it("keeps each request's spans to itself, across tenants and concurrent requests", async () => {
    const other = registerTenant();
    const keys = [(await createKey("acme", ["chat"])).key, (await createKey(other.id, ["chat"])).key];
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call("/v1/chat/completions", {
          method: "POST",
          headers: json(keys[i % 2]!),
          body: JSON.stringify({ messages: [{ role: "user", content: `Question ${i}` }] }),
        }),
      ),
    );
    for (const response of responses) {
      expect(response.status).toBe(200);
      const spans = spansOf(response);
      expect(Object.keys(spans)).toEqual(["auth", "admission", "chat", "model", "total"]);
      // Summed with another request's, chat (or its model call) would outlast this request.
      expect(spans.chat).toBeLessThanOrEqual(spans.total!);
      expect(spans.model).toBeLessThanOrEqual(spans.chat!);
      await response.text();
    }
  });
});

describe("the request's log lines", () => {
  it("carry tenant, request and trace id, one request line, and never the message", async () => {
    const { key, id: keyId } = await createKey("acme", ["chat"]);
    const secretMessage = `my-private-question-${crypto.randomUUID()}`;
    const requestId = `trace-test-${crypto.randomUUID()}`;
    const { result: response, lines } = await logLinesOf(async () => {
      const answered = await call("/v1/chat/completions", {
        method: "POST",
        headers: json(key, { "x-request-id": requestId, traceparent }),
        body: JSON.stringify({ messages: [{ role: "user", content: secretMessage }] }),
      });
      await answered.clone().text();
      return answered;
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe(requestId);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = parsed.filter((line) => line.event === "request" && line.requestId === requestId);
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: "info",
      tenantId: "acme",
      requestId,
      traceId: TRACE_ID,
      keyId,
      method: "POST",
      path: "/v1/chat/completions",
      status: 200,
    });
    for (const line of lines) expect(line).not.toContain(secretMessage);
    expect(lines.join("\n")).not.toContain(key);
  });

  it("a failure on the server side gets its own line with the code, the same ids", async () => {
    const tenant = registerTenant({ ai: { chat: { default: "local/fail-always", fallbacks: [] } } });
    const { key } = await createKey(tenant.id, ["chat"]);
    const requestId = `trace-fail-${crypto.randomUUID()}`;
    const { result: response, lines } = await logLinesOf(() =>
      call("/v1/chat", {
        method: "POST",
        headers: json(key, { "x-request-id": requestId, traceparent }),
        body: JSON.stringify({ message: "This will fail", stream: false, tools: false }),
      }),
    );
    await expectError(response, 502, "ai_unavailable");
    const mine = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.requestId === requestId);
    expect(mine.map((line) => line.event).sort()).toEqual(["request", "request_failed"]);
    for (const line of mine) expect(line).toMatchObject({ tenantId: tenant.id, traceId: TRACE_ID });
    expect(mine.find((line) => line.event === "request_failed")).toMatchObject({
      level: "error",
      code: "ai_unavailable",
    });
    for (const line of lines) expect(line).not.toContain("This will fail");
  });
});

describe("timing helpers", () => {
  it("takes the timings out of a body even with tracing off, and merges them when on", () => {
    const off = { answer: "a", timings: { model: 3 } };
    expect(takeTimings(off, null)).toEqual({ answer: "a" });
    const spans = new Spans();
    const on = { answer: "b", timings: { model: 4, "bad name": 1 } };
    expect(takeTimings(on, spans)).toEqual({ answer: "b" });
    expect(spans.timings()).toEqual({ model: 4 });
    expect(takeTimings([1, 2], spans)).toEqual([1, 2]);
    expect(takeTimings(null, spans)).toBeNull();
  });

  it("is only total without tracing", () => {
    expect(serverTimingOf(null, 12)).toBe("total;dur=12");
    const spans = new Spans();
    spans.add("auth", 1);
    expect(serverTimingOf(spans, 12)).toBe("auth;dur=1, total;dur=12");
  });
});
