/**
 * The UsageLog through crispy-ratelimit's RPC: points recorded and linked by request id (in either
 * order), reports by day, key, model and route with errors, percentiles and cost from the tenant's
 * price table, query and point validation, tenant isolation, retention and erasure.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { ModelCallPoint, RequestPoint, TenantContext, UsageReport, UsageRow } from "@crispy/contracts";
import { contextFor, testConfig, unwrap } from "@crispy/testing";
import { describe, expect, it } from "vitest";

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

/** A tenant pricing local/echo-1 at $2 / $6 per million tokens. */
function pricedTenant(): TenantContext {
  return contextFor(
    testConfig({
      pricing: { "local/echo-1": { promptUsdPerMillion: 2, completionUsdPerMillion: 6 } },
    }),
    ["chat"],
  );
}

function request(overrides: Partial<RequestPoint> = {}): RequestPoint {
  return {
    kind: "request",
    ts: Date.now(),
    requestId: crypto.randomUUID(),
    keyId: "key_a",
    route: "/v1/chat",
    method: "POST",
    status: 200,
    latencyMs: 10,
    ...overrides,
  };
}

function modelCall(requestId: string, overrides: Partial<ModelCallPoint> = {}): ModelCallPoint {
  return {
    kind: "model",
    ts: Date.now(),
    requestId,
    keyId: "key_a",
    worker: "chat",
    operation: "chat",
    model: "local/echo-1",
    promptTokens: 100,
    completionTokens: 50,
    latencyMs: 40,
    ttftMs: 5,
    cacheHit: false,
    outcome: "ok",
    ...overrides,
  };
}

async function record(tenant: TenantContext, points: unknown[]): Promise<void> {
  expect(unwrap(await exports.default.recordUsage(tenant, points))).toEqual({ recorded: points.length });
}

async function report(tenant: TenantContext, groupBy: string, extra: Record<string, unknown> = {}) {
  return unwrap(await exports.default.usageReport(tenant, { from: daysAgo(2), to: today(), groupBy, ...extra }));
}

function row(report: UsageReport, group: string): UsageRow {
  const found = report.rows.find((r) => r.group === group);
  if (!found) throw new Error(`no row ${group} in ${JSON.stringify(report.rows)}`);
  return found;
}

describe("recordUsage and requestUsage", () => {
  it("links a request and its model calls by request id, whichever arrives first", async () => {
    const tenant = pricedTenant();
    const first = request();
    const second = request({ route: "/v1/chat/completions" });
    // The model call before its request (the gateway batches its points), and after it.
    await record(tenant, [modelCall(first.requestId)]);
    await record(tenant, [first, second]);
    await record(tenant, [modelCall(second.requestId, { model: "local/echo-2", ttftMs: null })]);

    const one = unwrap(await exports.default.requestUsage(tenant, first.requestId, null));
    expect(one.request).toMatchObject({ route: "/v1/chat", status: 200, keyId: "key_a", model: "local/echo-1" });
    expect(one.modelCalls).toHaveLength(1);
    // 100 × $2/M + 50 × $6/M
    expect(one.modelCalls[0]).toMatchObject({ promptTokens: 100, completionTokens: 50, costUsd: 0.0005 });
    const two = unwrap(await exports.default.requestUsage(tenant, second.requestId, null));
    expect(two.request?.model).toBe("local/echo-2");
    expect(two.modelCalls[0]).toMatchObject({ ttftMs: null, costUsd: 0 });

    const byRoute = await report(tenant, "route");
    expect(row(byRoute, "/v1/chat")).toMatchObject({ requests: 1, modelCalls: 1, totalTokens: 150 });
    expect(row(byRoute, "/v1/chat/completions")).toMatchObject({ requests: 1, modelCalls: 1, totalTokens: 150 });
  });

  it("refuses malformed points, naming the field, and writes none of the batch", async () => {
    const tenant = pricedTenant();
    const good = request();
    const cases: Array<[unknown[], string]> = [
      [[], "points must be an array of 1-200"],
      [Array.from({ length: 201 }, () => request()), "points must be an array of 1-200"],
      [[good, { ...request(), route: "v1/no-slash" }], "points[1].route"],
      [[{ ...request(), ts: Date.now() - 2 * DAY_MS }], "points[0].ts"],
      [[{ ...request(), status: 42 }], "points[0].status"],
      [[{ ...modelCall(good.requestId), promptTokens: -1 }], "points[0].promptTokens"],
      [[{ ...modelCall(good.requestId), outcome: "maybe" }], "points[0].outcome"],
      [[{ kind: "other" }], "points[0].kind"],
    ];
    for (const [points, message] of cases) {
      const result = await exports.default.recordUsage(tenant, points);
      expect(result.ok ? null : result.error.code, message).toBe("bad_request");
      expect(result.ok ? "" : result.error.message).toContain(message);
    }
    expect(unwrap(await exports.default.requestUsage(tenant, good.requestId, null)).request).toBeNull();
    expect(await runInDurableObject(env.USAGE_LOG.getByName(tenant.tenantId), (log) => log.counts())).toEqual({
      requests: 0,
      modelCalls: 0,
    });
  });
});

describe("usageReport", () => {
  async function seeded(): Promise<TenantContext> {
    const tenant = pricedTenant();
    const points: unknown[] = [];
    // key_a: 10 chat requests with latencies 10..100 ms, one model call each.
    for (let i = 1; i <= 10; i++) {
      const r = request({ latencyMs: i * 10 });
      points.push(r, modelCall(r.requestId));
    }
    // key_b: a 429 and a 503 on search, and one search answered from the cache yesterday.
    const yesterday = Date.now() - DAY_MS + 5_000;
    points.push(request({ keyId: "key_b", route: "/v1/search", status: 429, latencyMs: 1 }));
    points.push(request({ keyId: "key_b", route: "/v1/search", status: 503, latencyMs: 2 }));
    const cached = request({ keyId: "key_b", route: "/v1/search", latencyMs: 3, ts: yesterday });
    points.push(
      cached,
      modelCall(cached.requestId, {
        keyId: "key_b",
        worker: "rag",
        operation: "search",
        promptTokens: 0,
        completionTokens: 0,
        cacheHit: true,
        ts: yesterday,
      }),
    );
    await record(tenant, points);
    return tenant;
  }

  it("groups by key, with 4xx and 5xx apart, nearest-rank p50/p99 and cost from the price table", async () => {
    const tenant = await seeded();
    const byKey = await report(tenant, "key");
    expect(byKey.rows.map((r) => r.group)).toEqual(["key_a", "key_b"]);
    expect(row(byKey, "key_a")).toMatchObject({
      requests: 10,
      errors4xx: 0,
      errors5xx: 0,
      p50Ms: 50,
      p99Ms: 100,
      modelCalls: 10,
      promptTokens: 1000,
      completionTokens: 500,
      totalTokens: 1500,
      costUsd: 0.005,
    });
    expect(row(byKey, "key_b")).toMatchObject({ requests: 3, errors4xx: 1, errors5xx: 1, cacheHits: 1, costUsd: 0 });
    expect(byKey.totals).toMatchObject({
      requests: 13,
      errors4xx: 1,
      errors5xx: 1,
      modelCalls: 11,
      cacheHits: 1,
      totalTokens: 1500,
      costUsd: 0.005,
      // 1, 2, 3, 10, 20, 30, 40, … 100: the 7th of 13.
      p50Ms: 40,
      p99Ms: 100,
    });
  });

  it("groups by day (every day of the range, empty ones as zeros), model and route", async () => {
    const tenant = await seeded();
    const byDay = await report(tenant, "day");
    expect(byDay.rows.map((r) => r.group)).toEqual([daysAgo(2), daysAgo(1), today()]);
    expect(byDay.rows.map((r) => r.requests)).toEqual([0, 1, 12]);
    expect(byDay.rows[0]).toMatchObject({ p50Ms: null, totalTokens: 0 });

    const byModel = await report(tenant, "model");
    expect(row(byModel, "local/echo-1")).toMatchObject({ requests: 11, modelCalls: 11, totalTokens: 1500 });
    // The two refused searches called no model.
    expect(row(byModel, "none")).toMatchObject({ requests: 2, modelCalls: 0 });

    const byRoute = await report(tenant, "route");
    expect(row(byRoute, "/v1/chat")).toMatchObject({ requests: 10, totalTokens: 1500 });
    expect(row(byRoute, "/v1/search")).toMatchObject({ requests: 3, cacheHits: 1, errors4xx: 1, errors5xx: 1 });
  });

  it("reports only one key's usage when asked (what a non-admin key sees)", async () => {
    const tenant = await seeded();
    const own = await report(tenant, "route", { keyId: "key_b" });
    expect(own.keyId).toBe("key_b");
    expect(own.rows.map((r) => r.group)).toEqual(["/v1/search"]);
    expect(own.totals).toMatchObject({ requests: 3, totalTokens: 0 });
    const lookup = unwrap(await exports.default.requestUsage(tenant, "nope", "key_b"));
    expect(lookup).toEqual({ requestId: "nope", request: null, modelCalls: [] });
  });

  it("refuses a bad range or grouping, naming the field", async () => {
    const tenant = pricedTenant();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ from: "2026-02-30", to: today(), groupBy: "day" }, "from must be a UTC date"],
      [{ from: today(), to: "yesterday", groupBy: "day" }, "to must be a UTC date"],
      [{ from: today(), to: daysAgo(1), groupBy: "day" }, "to must not be before from"],
      [{ from: daysAgo(93), to: today(), groupBy: "day" }, "the range spans 94 days; at most 93"],
      [{ from: today(), to: today(), groupBy: "week" }, "groupBy must be one of day, key, model, route"],
      [{ from: today(), to: today(), groupBy: "key", keyId: "" }, "keyId must be"],
    ];
    for (const [query, message] of cases) {
      const result = await exports.default.usageReport(tenant, query);
      expect(result.ok ? "" : result.error.message).toContain(message);
    }
    expect((await report(tenant, "day", { from: daysAgo(92) })).rows).toHaveLength(93);
  });

  it("never shows one tenant's usage to another", async () => {
    const a = await seeded();
    const b = pricedTenant();
    const someRequest = unwrap(await exports.default.usageReport(a, { from: today(), to: today(), groupBy: "key" }));
    expect(someRequest.totals.requests).toBe(12);
    const theirs = await report(b, "key");
    expect(theirs.rows).toEqual([]);
    expect(theirs.totals).toMatchObject({ requests: 0, modelCalls: 0, totalTokens: 0 });
    // A request id of tenant A, looked up as tenant B.
    const [aRequest] = await runInDurableObject(env.USAGE_LOG.getByName(a.tenantId), (_, state) =>
      state.storage.sql.exec<{ request_id: string }>("SELECT request_id FROM requests LIMIT 1").toArray(),
    );
    expect(unwrap(await exports.default.requestUsage(a, aRequest!.request_id, null)).request).not.toBeNull();
    expect(unwrap(await exports.default.requestUsage(b, aRequest!.request_id, null)).request).toBeNull();
  });
});

describe("retention and erasure", () => {
  it("prunes rows past the retention with the alarm, keeping newer ones", async () => {
    const tenant = pricedTenant();
    const recent = request();
    await record(tenant, [request(), recent, modelCall(recent.requestId)]);
    const log = env.USAGE_LOG.getByName(tenant.tenantId);
    expect(await runInDurableObject(log, (_, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(log, (_, state) => {
      state.storage.sql.exec(
        "UPDATE requests SET ts = ? WHERE request_id <> ?",
        Date.now() - 401 * DAY_MS,
        recent.requestId,
      );
    });
    expect(await runDurableObjectAlarm(log)).toBe(true);
    expect(await runInDurableObject(log, (object) => object.counts())).toEqual({ requests: 1, modelCalls: 1 });
    expect(await runInDurableObject(log, (_, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("erases in bounded batches and then leaves no storage at all; another tenant keeps its usage", async () => {
    const tenant = pricedTenant();
    const other = pricedTenant();
    const points = Array.from({ length: 5 }, () => request());
    await record(tenant, [...points, modelCall(points[0]!.requestId)]);
    await record(other, [request()]);
    const log = env.USAGE_LOG.getByName(tenant.tenantId);

    expect(await log.eraseBatch(3)).toEqual({ deleted: { requests: 3, modelCalls: 1 }, done: false });
    expect(await log.eraseBatch(3)).toEqual({ deleted: { requests: 2, modelCalls: 0 }, done: true });
    expect(await log.counts()).toEqual({ requests: 0, modelCalls: 0 });
    const left = await runInDurableObject(log, (_, state) => ({
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
      alarm: state.storage.getAlarm(),
    }));
    expect(left.tables).toEqual([]);
    expect(await left.alarm).toBeNull();
    expect((await report(tenant, "key")).totals.requests).toBe(0);
    expect((await report(other, "key")).totals.requests).toBe(1);

    // Usage after the erasure is recorded again from scratch.
    await record(tenant, [request()]);
    expect(await log.counts()).toEqual({ requests: 1, modelCalls: 0 });
  });
});
