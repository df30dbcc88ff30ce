/**
 * Usage analytics end to end: the gateway's request points and the chat and rag workers' model-call
 * points reach the tenant's UsageLog (crispy-ratelimit) and come back through `GET /v1/usage` —
 * one request followed by its id, reports by day, key, model and route with cost from the tenant's
 * price table, query validation, what a non-admin key may see, tenant isolation, a client
 * disconnect mid-stream, the operator's `GET /admin/usage`, and the console page's headers.
 * Points are sent off the response path (the gateway batches them for about a second), so every
 * read polls.
 */
import { describe, expect, it } from "vitest";
import type { ChatTurnReply, RequestUsage, TenantConfig, UsageReport } from "@crispy/contracts";
import { bearer, call, createKey, eventually, expectError, OPERATOR_TOKEN, registerTenant } from "./helpers";
import { readEvents } from "./sse";

type UsageAnswer = UsageReport & RequestUsage & { daily: { limit: number } };

const PRICES = { promptUsdPerMillion: 4, completionUsdPerMillion: 12 };
const today = () => new Date().toISOString().slice(0, 10);

/** A tenant of this test alone, pricing the local model it chats with. */
function pricedTenant(): TenantConfig {
  return registerTenant({ pricing: { "local/echo-1": PRICES } });
}

function json(key: string, requestId: string): Record<string, string> {
  return bearer(key, { "content-type": "application/json", "x-request-id": requestId });
}

async function usage(key: string, query: string, tenantId?: string): Promise<UsageAnswer> {
  const response = await call(`/v1/usage?${query}`, {
    headers: bearer(key, tenantId ? { "x-tenant-id": tenantId } : {}),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<UsageAnswer>();
}

/** Polls the lookup of `requestId` until `check` holds. */
async function recorded(key: string, requestId: string, check: (found: UsageAnswer) => void): Promise<UsageAnswer> {
  let found: UsageAnswer | undefined;
  await eventually(async () => {
    found = await usage(key, `requestId=${requestId}`);
    check(found);
  }, 10_000);
  return found!;
}

async function chatTurn(key: string, requestId: string, message: string): Promise<ChatTurnReply> {
  const response = await call("/v1/chat", {
    method: "POST",
    headers: json(key, requestId),
    body: JSON.stringify({ message, stream: false }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<ChatTurnReply>();
}

const cost = (prompt: number, completion: number) =>
  (prompt * PRICES.promptUsdPerMillion + completion * PRICES.completionUsdPerMillion) / 1_000_000;

describe("one request, followed by its id", () => {
  it("records a JSON chat turn: the request (key, route pattern, status) and its model call (model, tokens, cost)", async () => {
    const tenant = pricedTenant();
    const admin = await createKey(tenant.id, ["chat", "admin"]);
    const requestId = `turn-${crypto.randomUUID()}`;
    const reply = await chatTurn(admin.key, requestId, "Hello there, how are the lighthouses today?");

    const found = await recorded(admin.key, requestId, (f) => {
      expect(f.request).not.toBeNull();
      expect(f.modelCalls).toHaveLength(1);
    });
    expect(found.request).toMatchObject({
      requestId,
      keyId: admin.id,
      route: "/v1/chat",
      method: "POST",
      status: 200,
      model: "local/echo-1",
    });
    expect(found.modelCalls[0]).toMatchObject({
      keyId: admin.id,
      worker: "chat",
      operation: "chat",
      model: "local/echo-1",
      promptTokens: reply.usage.promptTokens,
      completionTokens: reply.usage.completionTokens,
      outcome: "ok",
      cacheHit: false,
    });
    expect(found.modelCalls[0]!.costUsd).toBeCloseTo(cost(reply.usage.promptTokens, reply.usage.completionTokens), 10);
    // The budget readout is still there, beside the lookup.
    expect(found.daily.limit).toBe(tenant.budgets.dailyTokens);
  });

  it("records a streamed turn with the tokens of its done event and a time to first token", async () => {
    const tenant = pricedTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const requestId = `stream-${crypto.randomUUID()}`;
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key, requestId),
      body: JSON.stringify({ message: "Stream me a few words about the sea" }),
    });
    expect(response.status).toBe(200);
    const done = (await readEvents(response)).find((e) => e.event === "done");
    const summary = JSON.parse(done!.data) as { usage: { promptTokens: number; completionTokens: number } };

    const found = await recorded(key, requestId, (f) => {
      expect(f.request?.status).toBe(200);
      expect(f.modelCalls).toHaveLength(1);
    });
    expect(found.modelCalls[0]).toMatchObject({
      outcome: "ok",
      promptTokens: summary.usage.promptTokens,
      completionTokens: summary.usage.completionTokens,
    });
    // The local model waits 50 ms between tokens (vitest.config.ts): the stream took longer than its first token.
    expect(found.modelCalls[0]!.ttftMs).not.toBeNull();
    expect(found.modelCalls[0]!.latencyMs).toBeGreaterThan(found.modelCalls[0]!.ttftMs!);
  });

  it("still records a turn whose client disconnected mid-stream, with the tokens produced until then", async () => {
    const tenant = pricedTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const requestId = `cut-${crypto.randomUUID()}`;
    const response = await call("/v1/chat", {
      method: "POST",
      headers: json(key, requestId),
      body: JSON.stringify({
        message: "Tell me a long story about the keepers of the northern lights and their many nights awake",
      }),
    });
    let tokens = 0;
    await readEvents(response, (event) => event.event === "token" && ++tokens >= 3);

    const found = await recorded(key, requestId, (f) => {
      expect(f.request).not.toBeNull();
      expect(f.modelCalls).toHaveLength(1);
    });
    expect(found.request).toMatchObject({ route: "/v1/chat", status: 200 });
    const cut = found.modelCalls[0]!;
    expect(cut.outcome).toBe("aborted");
    expect(cut.completionTokens).toBeGreaterThan(0);
    expect(cut.promptTokens).toBeGreaterThan(0);
    expect(cut.costUsd).toBeCloseTo(cost(cut.promptTokens, cut.completionTokens), 10);
  });

  it("still records a streamed completion whose client disconnected, with the tokens produced until then", async () => {
    const tenant = pricedTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const requestId = `cmpl-cut-${crypto.randomUUID()}`;
    const response = await call("/v1/chat/completions", {
      method: "POST",
      headers: json(key, requestId),
      body: JSON.stringify({
        model: "local/echo-1",
        stream: true,
        messages: [{ role: "user", content: "Tell me a long story about harbours, tides, gulls and the old pier" }],
      }),
    });
    expect(response.status).toBe(200);
    let content = 0;
    await readEvents(response, (event) => event.data.includes('"content"') && ++content >= 3);

    const found = await recorded(key, requestId, (f) => {
      expect(f.request).not.toBeNull();
      expect(f.modelCalls).toHaveLength(1);
    });
    expect(found.request).toMatchObject({ route: "/v1/chat/completions", status: 200 });
    expect(found.modelCalls[0]).toMatchObject({ worker: "chat", operation: "chat", outcome: "aborted" });
    expect(found.modelCalls[0]!.completionTokens).toBeGreaterThan(0);
  });

  it("records every model call of concurrent completions of two tenants, each only under its own tenant", async () => {
    // Chat batches the points of about a second per isolate: these share batches, and must all
    // arrive, each tenant's in its own UsageLog.
    const tenants = [pricedTenant(), pricedTenant()];
    const keys = await Promise.all(tenants.map((t) => createKey(t.id, ["chat", "admin"])));
    const perTenant = 8;
    const ids = tenants.map((_, t) =>
      Array.from({ length: perTenant }, (_, i) => `burst-${t}-${i}-${crypto.randomUUID()}`),
    );
    const answers = await Promise.all(
      ids.flatMap((list, t) =>
        list.map((requestId, i) =>
          call("/v1/chat/completions", {
            method: "POST",
            headers: json(keys[t]!.key, requestId),
            body: JSON.stringify({ model: "local/echo-1", messages: [{ role: "user", content: `Question ${i}` }] }),
          }),
        ),
      ),
    );
    for (const answer of answers) expect(answer.status, await answer.clone().text()).toBe(200);
    const completions = await Promise.all(
      answers.map((a) => a.json<{ usage: { prompt_tokens: number; completion_tokens: number } }>()),
    );
    for (const [t, list] of ids.entries()) {
      const tokens = completions
        .slice(t * perTenant, (t + 1) * perTenant)
        .reduce((sum, c) => sum + c.usage.prompt_tokens + c.usage.completion_tokens, 0);
      await eventually(async () => {
        const byRoute = await usage(keys[t]!.key, "groupBy=route");
        expect(byRoute.rows.find((r) => r.group === "/v1/chat/completions")).toMatchObject({
          requests: perTenant,
          modelCalls: perTenant,
          totalTokens: tokens,
        });
      }, 10_000);
      // The other tenant's key finds none of these requests.
      const other = keys[1 - t]!.key;
      for (const requestId of list.slice(0, 3)) {
        const seen = await usage(other, `requestId=${requestId}`);
        expect(seen.request).toBeNull();
        expect(seen.modelCalls).toEqual([]);
      }
    }
  });

  it("records an OpenAI-style completion and an embeddings call under their own routes", async () => {
    const tenant = pricedTenant();
    const { key } = await createKey(tenant.id, ["chat", "search"]);
    const completionId = `cmpl-${crypto.randomUUID()}`;
    const completion = await call("/v1/chat/completions", {
      method: "POST",
      headers: json(key, completionId),
      body: JSON.stringify({ model: "local/echo-1", messages: [{ role: "user", content: "Say hi" }] }),
    });
    expect(completion.status, await completion.clone().text()).toBe(200);
    const embedId = `embed-${crypto.randomUUID()}`;
    const embedded = await call("/v1/embeddings", {
      method: "POST",
      headers: json(key, embedId),
      body: JSON.stringify({ model: tenant.ai.embeddings.model, input: ["one", "two"] }),
    });
    expect(embedded.status, await embedded.clone().text()).toBe(200);
    const { usage: embedUsage } = await embedded.json<{ usage: { prompt_tokens: number } }>();

    const both = (f: UsageAnswer) => {
      expect(f.request).not.toBeNull();
      expect(f.modelCalls).toHaveLength(1);
    };
    const chatUsage = await recorded(key, completionId, both);
    expect(chatUsage.request?.route).toBe("/v1/chat/completions");
    expect(chatUsage.modelCalls[0]).toMatchObject({ worker: "chat", operation: "chat", outcome: "ok" });
    const embedRow = await recorded(key, embedId, both);
    expect(embedRow.request?.route).toBe("/v1/embeddings");
    expect(embedRow.modelCalls[0]).toMatchObject({
      worker: "rag",
      operation: "embed",
      model: tenant.ai.embeddings.model,
      promptTokens: embedUsage.prompt_tokens,
      completionTokens: 0,
      costUsd: 0,
    });
  });

  it("records a search answer's model call, and a repeat served from the cache as a cache hit", async () => {
    const tenant = pricedTenant();
    const { key } = await createKey(tenant.id, ["ingest", "search"]);
    const word = `zq${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
    const ingested = await call("/v1/documents?wait=true", {
      method: "POST",
      headers: json(key, `ingest-${crypto.randomUUID()}`),
      body: JSON.stringify({
        title: "Tides",
        text: `The ${word} tide tables are printed every spring for the harbour.`,
      }),
    });
    expect(ingested.status, await ingested.clone().text()).toBe(200);
    const ids = [`search-${crypto.randomUUID()}`, `again-${crypto.randomUUID()}`];
    for (const requestId of ids) {
      const response = await call("/v1/search", {
        method: "POST",
        headers: json(key, requestId),
        body: JSON.stringify({ query: `When are the ${word} tide tables printed?` }),
      });
      expect(response.status, await response.clone().text()).toBe(200);
    }
    const both = (f: UsageAnswer) => {
      expect(f.request).not.toBeNull();
      expect(f.modelCalls).toHaveLength(1);
    };
    const first = await recorded(key, ids[0]!, both);
    expect(first.request?.route).toBe("/v1/search");
    expect(first.modelCalls[0]).toMatchObject({ worker: "rag", operation: "search", cacheHit: false, outcome: "ok" });
    expect(first.modelCalls[0]!.promptTokens).toBeGreaterThan(0);
    const again = await recorded(key, ids[1]!, both);
    expect(again.modelCalls[0]).toMatchObject({ cacheHit: true, promptTokens: 0, completionTokens: 0, costUsd: 0 });
    const byRoute = await usage(key, "groupBy=route");
    expect(byRoute.rows.find((r) => r.group === "/v1/search")).toMatchObject({ modelCalls: 2, cacheHits: 1 });
  });
});

describe("GET /v1/usage reports", () => {
  it("breaks usage down by day, key, model and route, with cost from the price table", async () => {
    const tenant = pricedTenant();
    // The reader's own GET /v1/usage calls are requests too (route /v1/usage): the checks below
    // look at the other keys' rows, and at what reads cannot change (model calls, tokens, cost).
    const reader = await createKey(tenant.id, ["admin"]);
    const first = await createKey(tenant.id, ["chat"]);
    const second = await createKey(tenant.id, ["chat"]);
    const replies = [
      await chatTurn(first.key, `f1-${crypto.randomUUID()}`, "First question from the first key"),
      await chatTurn(first.key, `f2-${crypto.randomUUID()}`, "Second question from the first key"),
      await chatTurn(second.key, `s1-${crypto.randomUUID()}`, "A question from the second key"),
    ];
    const refused = await call("/v1/sessions/ses_missing", { headers: bearer(second.key) });
    expect(refused.status).toBe(404);
    const tokens = replies.reduce((sum, r) => sum + r.usage.totalTokens, 0);

    let byKey: UsageAnswer | undefined;
    await eventually(async () => {
      byKey = await usage(reader.key, "groupBy=key");
      expect(byKey.totals).toMatchObject({ modelCalls: 3, totalTokens: tokens });
      expect(byKey.rows.find((r) => r.group === second.id)?.requests).toBe(2);
    }, 10_000);
    expect(byKey!.keyId).toBeNull();
    expect(byKey!.rows.find((r) => r.group === first.id)).toMatchObject({ requests: 2, errors4xx: 0, modelCalls: 2 });
    expect(byKey!.rows.find((r) => r.group === second.id)).toMatchObject({
      requests: 2,
      errors4xx: 1,
      errors5xx: 0,
      modelCalls: 1,
    });
    const expectedCost = replies.reduce((sum, r) => sum + cost(r.usage.promptTokens, r.usage.completionTokens), 0);
    expect(byKey!.totals.costUsd).toBeCloseTo(expectedCost, 7);
    expect(byKey!.totals.p50Ms).not.toBeNull();
    expect(byKey!.totals.p99Ms!).toBeGreaterThanOrEqual(byKey!.totals.p50Ms!);

    const byDay = await usage(reader.key, `groupBy=day&from=${today()}&to=${today()}`);
    expect(byDay.range).toEqual({ from: today(), to: today() });
    expect(byDay.rows).toHaveLength(1);
    expect(byDay.rows[0]).toMatchObject({ group: today(), modelCalls: 3, totalTokens: tokens });
    expect(byDay.rows[0]!.requests).toBeGreaterThanOrEqual(4);
    // The default range: the last 30 days, every one a row.
    expect((await usage(reader.key, "groupBy=day")).rows).toHaveLength(30);

    const byModel = await usage(reader.key, "groupBy=model");
    expect(byModel.rows.find((r) => r.group === "local/echo-1")).toMatchObject({ requests: 3, totalTokens: tokens });
    // Requests that called no model: the refused one, and the reader's reads.
    expect(byModel.rows.find((r) => r.group === "none")).toMatchObject({ errors4xx: 1, modelCalls: 0 });

    const byRoute = await usage(reader.key, "groupBy=route");
    expect(byRoute.rows.find((r) => r.group === "/v1/chat")).toMatchObject({ requests: 3, totalTokens: tokens });
    // The route pattern, never the raw path with its id.
    expect(byRoute.rows.find((r) => r.group === "/v1/sessions/:sessionId")).toMatchObject({
      requests: 1,
      errors4xx: 1,
    });
    expect(byRoute.rows.some((r) => r.group.includes("ses_missing"))).toBe(false);
    expect(byRoute.rows.find((r) => r.group === "/v1/usage")!.requests).toBeGreaterThan(0);

    // An admin key may narrow the report to one key.
    const narrowed = await usage(reader.key, `groupBy=route&keyId=${second.id}`);
    expect(narrowed.keyId).toBe(second.id);
    expect(narrowed.totals).toMatchObject({ requests: 2, modelCalls: 1 });
  });

  it("shows a key without the admin scope only its own usage", async () => {
    const tenant = pricedTenant();
    const admin = await createKey(tenant.id, ["chat", "admin"]);
    const mine = await createKey(tenant.id, ["chat"]);
    const adminTurn = `adm-${crypto.randomUUID()}`;
    await chatTurn(admin.key, adminTurn, "The admin's question");
    const ownTurn = `own-${crypto.randomUUID()}`;
    await chatTurn(mine.key, ownTurn, "My own question");
    await recorded(admin.key, adminTurn, (f) => expect(f.request).not.toBeNull());
    await recorded(mine.key, ownTurn, (f) => expect(f.request).not.toBeNull());

    const own = await usage(mine.key, "groupBy=key");
    expect(own.keyId).toBe(mine.id);
    expect(own.rows.map((r) => r.group)).toEqual([mine.id]);
    // Its lookup of the admin's request finds nothing; naming another key is refused.
    const theirs = await usage(mine.key, `requestId=${adminTurn}`);
    expect(theirs.request).toBeNull();
    expect(theirs.modelCalls).toEqual([]);
    const error = await expectError(
      await call(`/v1/usage?groupBy=key&keyId=${admin.id}`, { headers: bearer(mine.key) }),
      403,
      "forbidden",
    );
    expect(error.message).toContain("admin");
  });

  it("answers a bad query with 400 naming the field", async () => {
    const tenant = pricedTenant();
    const { key } = await createKey(tenant.id, ["chat", "admin"]);
    const cases: Array<[string, string]> = [
      ["from=2026-02-30", "query from"],
      ["from=yesterday&groupBy=day", "query from"],
      [`to=not-a-date`, "query to"],
      [`from=${today()}&to=2000-01-01`, "query to: must not be before from"],
      ["from=2000-01-01&to=2000-12-31", "query from: the range spans 366 days; at most 93"],
      ["groupBy=week", "query groupBy"],
      [`requestId=${"x".repeat(129)}`, "query requestId"],
    ];
    for (const [query, message] of cases) {
      const error = await expectError(
        await call(`/v1/usage?${query}`, { headers: bearer(key) }),
        400,
        "validation_failed",
      );
      expect(error.message, query).toContain(message);
    }
  });

  it("never shows one tenant's usage to another", async () => {
    const a = pricedTenant();
    const b = pricedTenant();
    const aKey = await createKey(a.id, ["chat", "admin"]);
    const bKey = await createKey(b.id, ["chat", "admin"]);
    const requestId = `iso-${crypto.randomUUID()}`;
    await chatTurn(aKey.key, requestId, "Tenant A's private question");
    await recorded(aKey.key, requestId, (f) => expect(f.modelCalls).toHaveLength(1));

    const seen = await usage(bKey.key, `requestId=${requestId}&groupBy=key`);
    expect(seen.request).toBeNull();
    expect(seen.modelCalls).toEqual([]);
    expect(seen.rows).toEqual([]);
    expect(seen.totals).toMatchObject({ requests: 0, totalTokens: 0 });
    // B's key naming tenant A is refused outright.
    await expectError(
      await call(`/v1/usage?groupBy=key`, { headers: bearer(bKey.key, { "x-tenant-id": a.id }) }),
      403,
      "forbidden",
    );
  });
});

describe("GET /admin/usage", () => {
  it("needs the operator token", async () => {
    await expectError(await call("/admin/usage"), 401, "unauthorized");
    await expectError(await call("/admin/usage", { headers: bearer("wrong-token") }), 401, "unauthorized");
    const { key } = await createKey("acme", ["chat", "admin"]);
    await expectError(await call("/admin/usage", { headers: bearer(key) }), 401, "unauthorized");
  });

  it("reports every tenant's usage, by tenant and by model", async () => {
    const a = pricedTenant();
    const b = pricedTenant();
    const aKey = await createKey(a.id, ["chat"]);
    const bKey = await createKey(b.id, ["chat"]);
    const aTurn = `opa-${crypto.randomUUID()}`;
    const bTurn = `opb-${crypto.randomUUID()}`;
    const aReply = await chatTurn(aKey.key, aTurn, "Operator report, tenant A");
    const bReply = await chatTurn(bKey.key, bTurn, "Operator report, tenant B");
    await recorded(aKey.key, aTurn, (f) => expect(f.modelCalls).toHaveLength(1));
    await recorded(bKey.key, bTurn, (f) => expect(f.modelCalls).toHaveLength(1));

    const operator = { headers: bearer(OPERATOR_TOKEN) };
    const byTenant = await call(`/admin/usage?from=${today()}&to=${today()}`, operator);
    expect(byTenant.status, await byTenant.clone().text()).toBe(200);
    const report = await byTenant.json<UsageReport & { unavailable: string[] }>();
    expect(report.groupBy).toBe("tenant");
    expect(report.unavailable).toEqual([]);
    // Each tenant's chat turn (its usage reads add requests, not model calls).
    expect(report.rows.find((r) => r.group === a.id)).toMatchObject({
      modelCalls: 1,
      totalTokens: aReply.usage.totalTokens,
    });
    expect(report.rows.find((r) => r.group === b.id)).toMatchObject({
      modelCalls: 1,
      totalTokens: bReply.usage.totalTokens,
    });

    const byModel = await (await call("/admin/usage?groupBy=model", operator)).json<UsageReport>();
    const echo = byModel.rows.find((r) => r.group === "local/echo-1")!;
    // Every tenant of this run adds in; at least these two turns.
    expect(echo.totalTokens).toBeGreaterThanOrEqual(aReply.usage.totalTokens + bReply.usage.totalTokens);
    await expectError(await call("/admin/usage?groupBy=key", operator), 400, "validation_failed");
  });
});

describe("GET /console", () => {
  it("serves the page with a strict Content-Security-Policy that allows exactly its inline script and style", async () => {
    const response = await call("/console");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const policy = response.headers.get("content-security-policy")!;
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain("unsafe-inline");
    const html = await response.text();
    const hashOf = async (source: string) => {
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(source));
      return btoa(String.fromCharCode(...new Uint8Array(digest)));
    };
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(policy).toContain(`script-src 'sha256-${await hashOf(script)}'`);
    expect(policy).toContain(`style-src 'sha256-${await hashOf(style)}'`);
    // No resource from anywhere (only the empty data: favicon).
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(?!data:)/);
  });
});
