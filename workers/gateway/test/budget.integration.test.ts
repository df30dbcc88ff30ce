/**
 * Token budgets through the gateway, as a client spends them: turns that wait in one session's
 * queue and RAG turns are reserved for the prompt they really send, so the budget holds; a first
 * turn the client abandons leaves no session behind. Each test has a tenant of its own.
 */
import { env } from "cloudflare:workers";
import type { QuotaUsage, SessionSummary, Page } from "@crispy/contracts";
import { contextFor, MODELS } from "@crispy/testing";
import { describe, expect, it } from "vitest";
import { poolFor } from "../src/admission/isolate";
import { bearer, call, createKey, eventually, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const json = (key: string) => bearer(key, { "content-type": "application/json" });

function chat(key: string, body: Record<string, unknown>): Promise<Response> {
  return call("/v1/chat", { method: "POST", headers: json(key), body: JSON.stringify(body) });
}

/** The tenant's usage once every lease is closed (the gateway reports usage off the response path). */
async function settledUsage(key: string): Promise<QuotaUsage> {
  let usage: QuotaUsage | undefined;
  await eventually(async () => {
    usage = await (await call("/v1/usage", { headers: bearer(key) })).json<QuotaUsage>();
    expect(usage.openReservations).toBe(0);
  });
  return usage!;
}

describe("token budgets hold", () => {
  it("for concurrent turns queued on one session: each is reserved for the history ahead of it", async () => {
    const budget = 30_000;
    const tenant = registerTenant({ budgets: { dailyTokens: budget, monthlyTokens: 1_000_000 } });
    const { key } = await createKey(tenant.id, ["chat"]);
    const first = await (await chat(key, { message: "Start a long conversation.", stream: false })).json<{
      sessionId: string;
    }>();
    const long = "Tell me everything about the history of lighthouses. ".repeat(75).slice(0, 4_000);
    const responses = await Promise.all(
      Array.from({ length: 16 }, () => chat(key, { sessionId: first.sessionId, message: long, stream: false })),
    );
    const statuses = responses.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 429),
      JSON.stringify(statuses),
    ).toBe(true);
    const usage = await settledUsage(key);
    const admitted = statuses.filter((s) => s === 200).length;
    const largest = poolFor(env, contextFor(tenant)).largestTurn;
    console.log(
      `probe 1 (queued turns, one session): budget ${budget}, used ${usage.daily.used}, admitted ${admitted}/16, largest reservation ${largest}`,
    );
    expect(usage.daily.used).toBeLessThanOrEqual(budget);
    expect(admitted).toBeGreaterThan(1);
    expect(statuses).toContain(429);
  });

  it("for concurrent RAG turns: the retrieved passages are reserved before the model call", async () => {
    const budget = 12_000;
    const tenant = registerTenant({ budgets: { dailyTokens: budget, monthlyTokens: 1_000_000 } });
    const { key } = await createKey(tenant.id, ["chat", "ingest"]);
    const passage = (n: number) =>
      `Harbour note ${n}: the ferry to the northern islands leaves at dawn, carries freight and passengers, ` +
      "and its timetable changes with the tides, the season and the weather over the strait. ".repeat(4);
    const ingested = await call("/v1/documents?wait=true", {
      method: "POST",
      headers: json(key),
      body: JSON.stringify({
        title: "Harbour notes",
        text: Array.from({ length: 12 }, (_, n) => passage(n)).join("\n\n"),
      }),
    });
    expect(ingested.status, await ingested.clone().text()).toBe(200);
    // The documents cost tokens too (their embeddings are not budgeted; only chat is).
    const before = await settledUsage(key);
    const responses = await Promise.all(
      Array.from({ length: 14 }, () =>
        chat(key, { message: "When does the ferry to the northern islands leave?", rag: true, stream: false }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 429),
      JSON.stringify(statuses),
    ).toBe(true);
    const usage = await settledUsage(key);
    const largest = poolFor(env, contextFor(tenant)).largestTurn;
    console.log(
      `probe 2 (RAG turns): budget ${budget}, used ${usage.daily.used} (before ${before.daily.used}), admitted ${statuses.filter((s) => s === 200).length}/14, largest reservation ${largest}`,
    );
    expect(usage.daily.used).toBeLessThanOrEqual(budget);
    expect(statuses).toContain(429);
  });
});

describe("stateless completions", () => {
  const completion = (key: string, body: Record<string, unknown>) =>
    call("/v1/chat/completions", { method: "POST", headers: json(key), body: JSON.stringify(body) });
  const messages = [{ role: "user", content: "Name three lighthouses." }];

  it("are charged exactly the usage they report, streamed or not", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const plain = await completion(key, { model: MODELS.echo, messages });
    expect(plain.status).toBe(200);
    const { usage } = await plain.json<{ usage: { total_tokens: number } }>();
    expect((await settledUsage(key)).daily.used).toBe(usage.total_tokens);

    const streamed = await completion(key, {
      model: MODELS.echo,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = await readEvents(streamed);
    const last = JSON.parse(events.at(-2)!.data) as { usage: { total_tokens: number } };
    expect((await settledUsage(key)).daily.used).toBe(usage.total_tokens + last.usage.total_tokens);
  });

  it("that fail are charged nothing, and one that cannot fit the budget is refused before any model runs", async () => {
    const tenant = registerTenant({ budgets: { dailyTokens: 1_500, monthlyTokens: 1_000_000 } });
    const { key } = await createKey(tenant.id, ["chat"]);
    const failed = await completion(key, { model: MODELS.failAlways, messages });
    expect(failed.status).toBe(502);
    expect((await failed.json<{ error: { code: string } }>()).error.code).toBe("ai_unavailable");
    expect((await settledUsage(key)).daily.used).toBe(0);

    // The default completion allowance (1,024 tokens) fits; some 2,750 more of prompt do not.
    const big = [{ role: "user", content: "lighthouse ".repeat(1_000) }];
    const refused = await completion(key, { model: MODELS.echo, messages: big });
    expect(refused.status).toBe(429);
    expect((await refused.json<{ error: { code: string } }>()).error.code).toBe("budget_exceeded");
    expect((await settledUsage(key)).daily.used).toBe(0);
  });
});

describe("an abandoned first turn", () => {
  it("leaves no session behind when the client disconnects during the stream", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const response = await chat(key, { message: "Say something long, then I will hang up." });
    expect(response.status).toBe(200);
    const sessionId = response.headers.get("x-session-id")!;
    await readEvents(response, (event) => event.event === "token");
    await eventually(async () => {
      const page = await (await call("/v1/sessions", { headers: bearer(key) })).json<Page<SessionSummary>>();
      expect(page.items).toEqual([]);
      expect((await call(`/v1/sessions/${sessionId}`, { headers: bearer(key) })).status).toBe(404);
    });
  });
});
