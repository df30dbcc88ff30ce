/**
 * The SQL of a tenant's usage log (UsageLog holds one per tenant): a row per request and a row per
 * model call, and the reports over them.
 *
 * The two kinds arrive separately (the gateway batches its request points for about a second; the
 * worker that called a model sends its points when the call ends), in either order. Each is linked
 * to the other by request id as it arrives: a model call takes the route of its request, a request
 * the model of its first model call. When a client reuses a request id, the latest request with it
 * is the one linked.
 *
 * Which table answers what (so nothing is counted twice): requests, errors and latency come from
 * `requests`; model calls, cache hits, tokens and cost from `model_calls` (a model call whose
 * request row never arrived still counts, under route "unknown").
 */
import {
  emptyTotals,
  type RequestUsage,
  type UsageCounts,
  type UsageGroup,
  type UsageRow,
  type UsageTotals,
} from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";
import type { PricedPoint } from "./usage-points";

export const USAGE_SCHEMA = [
  `
    CREATE TABLE requests (
      id INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      request_id TEXT NOT NULL,
      key_id TEXT,
      route TEXT NOT NULL,
      method TEXT NOT NULL,
      status INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL,
      model TEXT
    );
    CREATE INDEX requests_by_ts ON requests (ts);
    CREATE INDEX requests_by_request_id ON requests (request_id);
    CREATE TABLE model_calls (
      id INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      request_id TEXT NOT NULL,
      key_id TEXT,
      route TEXT,
      worker TEXT NOT NULL,
      operation TEXT NOT NULL,
      model TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL,
      ttft_ms INTEGER,
      cache_hit INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      cost_usd REAL NOT NULL
    );
    CREATE INDEX model_calls_by_ts ON model_calls (ts);
    CREATE INDEX model_calls_by_request_id ON model_calls (request_id);
  `,
];

const DAY = "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')";

/** The group expression of each report, per table. */
const GROUPS: Record<UsageGroup, { requests: string; calls: string }> = {
  day: { requests: DAY, calls: DAY },
  key: { requests: "COALESCE(key_id, 'none')", calls: "COALESCE(key_id, 'none')" },
  model: { requests: "COALESCE(model, 'none')", calls: "model" },
  route: { requests: "route", calls: "COALESCE(route, 'unknown')" },
};

const LATEST_REQUEST = "SELECT id FROM requests WHERE request_id = ? ORDER BY id DESC LIMIT 1";

type RequestStats = { g: string; requests: number; e4: number; e5: number; p50: number | null; p99: number | null };
type CallStats = { g: string; calls: number; hits: number; prompt: number; completion: number; cost: number };

/** USD to the micro-dollar's hundredth (sums of REALs carry float noise). */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

export class UsageStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  /** Whether the tables exist (not in a new object, nor after an erasure deleted everything). */
  exists(): boolean {
    return (
      this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'schema_version'").one().n > 0
    );
  }

  /** Creates or upgrades the tables. */
  migrate(): void {
    migrateSchema(this.#storage, USAGE_SCHEMA);
  }

  /** Writes the points in one transaction, linking requests and model calls by request id. */
  insert(points: readonly PricedPoint[]): void {
    this.#storage.transactionSync(() => {
      for (const point of points) {
        if (point.kind === "request") this.#insertRequest(point);
        else this.#insertCall(point);
      }
    });
  }

  #insertRequest(point: Extract<PricedPoint, { kind: "request" }>): void {
    this.#sql.exec(
      `INSERT INTO requests (ts, request_id, key_id, route, method, status, latency_ms, model)
       VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT model FROM model_calls WHERE request_id = ? ORDER BY id LIMIT 1))`,
      point.ts,
      point.requestId,
      point.keyId,
      point.route,
      point.method,
      point.status,
      point.latencyMs,
      point.requestId,
    );
    this.#sql.exec(
      "UPDATE model_calls SET route = ? WHERE request_id = ? AND route IS NULL",
      point.route,
      point.requestId,
    );
  }

  #insertCall(point: Extract<PricedPoint, { kind: "model" }>): void {
    this.#sql.exec(
      `INSERT INTO model_calls (ts, request_id, key_id, route, worker, operation, model, prompt_tokens,
         completion_tokens, latency_ms, ttft_ms, cache_hit, outcome, cost_usd)
       VALUES (?, ?, ?, (SELECT route FROM requests WHERE id = (${LATEST_REQUEST})), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      point.ts,
      point.requestId,
      point.keyId,
      point.requestId,
      point.worker,
      point.operation,
      point.model,
      point.promptTokens,
      point.completionTokens,
      point.latencyMs,
      point.ttftMs,
      point.cacheHit ? 1 : 0,
      point.outcome,
      point.costUsd,
    );
    this.#sql.exec(
      `UPDATE requests SET model = ? WHERE id = (${LATEST_REQUEST}) AND model IS NULL`,
      point.model,
      point.requestId,
    );
  }

  /** Rows of [fromMs, toMs) grouped by `groupBy` (only `keyId`'s when given), best first. */
  report(fromMs: number, toMs: number, groupBy: UsageGroup, keyId: string | null): UsageRow[] {
    const where = `ts >= ? AND ts < ?${keyId === null ? "" : " AND key_id = ?"}`;
    const args = keyId === null ? [fromMs, toMs] : [fromMs, toMs, keyId];
    const group = GROUPS[groupBy];
    // Nearest-rank percentiles: the smallest latency whose rank r has r ≥ p·n, i.e. 100·r ≥ P·n.
    const requests = this.#sql
      .exec<RequestStats>(
        `SELECT g, COUNT(*) AS requests, SUM(status BETWEEN 400 AND 499) AS e4, SUM(status >= 500) AS e5,
           MIN(CASE WHEN rn * 100 >= n * 50 THEN v END) AS p50, MIN(CASE WHEN rn * 100 >= n * 99 THEN v END) AS p99
         FROM (SELECT ${group.requests} AS g, status, latency_ms AS v,
                 ROW_NUMBER() OVER (PARTITION BY ${group.requests} ORDER BY latency_ms) AS rn,
                 COUNT(*) OVER (PARTITION BY ${group.requests}) AS n
               FROM requests WHERE ${where})
         GROUP BY g`,
        ...args,
      )
      .toArray();
    const calls = this.#sql
      .exec<CallStats>(
        `SELECT ${group.calls} AS g, COUNT(*) AS calls, SUM(cache_hit) AS hits, SUM(prompt_tokens) AS prompt,
           SUM(completion_tokens) AS completion, SUM(cost_usd) AS cost
         FROM model_calls WHERE ${where} GROUP BY g`,
        ...args,
      )
      .toArray();
    const rows = new Map<string, UsageRow>();
    const rowOf = (g: string): UsageRow => {
      let row = rows.get(g);
      if (!row) {
        row = { group: g, ...emptyTotals() };
        rows.set(g, row);
      }
      return row;
    };
    for (const stats of requests) {
      Object.assign(rowOf(stats.g), {
        requests: stats.requests,
        errors4xx: stats.e4,
        errors5xx: stats.e5,
        p50Ms: stats.p50,
        p99Ms: stats.p99,
      });
    }
    for (const stats of calls) {
      Object.assign(rowOf(stats.g), {
        modelCalls: stats.calls,
        cacheHits: stats.hits,
        promptTokens: stats.prompt,
        completionTokens: stats.completion,
        totalTokens: stats.prompt + stats.completion,
        costUsd: roundUsd(stats.cost),
      });
    }
    return [...rows.values()];
  }

  /** The report's totals: sums, and percentiles over all its requests (not an average of rows). */
  totals(fromMs: number, toMs: number, keyId: string | null): UsageTotals {
    const where = `ts >= ? AND ts < ?${keyId === null ? "" : " AND key_id = ?"}`;
    const args = keyId === null ? [fromMs, toMs] : [fromMs, toMs, keyId];
    const requests = this.#sql
      .exec<Omit<RequestStats, "g">>(
        `SELECT COUNT(*) AS requests, COALESCE(SUM(status BETWEEN 400 AND 499), 0) AS e4,
           COALESCE(SUM(status >= 500), 0) AS e5,
           MIN(CASE WHEN rn * 100 >= n * 50 THEN v END) AS p50, MIN(CASE WHEN rn * 100 >= n * 99 THEN v END) AS p99
         FROM (SELECT status, latency_ms AS v, ROW_NUMBER() OVER (ORDER BY latency_ms) AS rn, COUNT(*) OVER () AS n
               FROM requests WHERE ${where})`,
        ...args,
      )
      .one();
    const calls = this.#sql
      .exec<Omit<CallStats, "g">>(
        `SELECT COUNT(*) AS calls, COALESCE(SUM(cache_hit), 0) AS hits, COALESCE(SUM(prompt_tokens), 0) AS prompt,
           COALESCE(SUM(completion_tokens), 0) AS completion, COALESCE(SUM(cost_usd), 0) AS cost
         FROM model_calls WHERE ${where}`,
        ...args,
      )
      .one();
    return {
      requests: requests.requests,
      errors4xx: requests.e4,
      errors5xx: requests.e5,
      p50Ms: requests.p50,
      p99Ms: requests.p99,
      modelCalls: calls.calls,
      cacheHits: calls.hits,
      promptTokens: calls.prompt,
      completionTokens: calls.completion,
      totalTokens: calls.prompt + calls.completion,
      costUsd: roundUsd(calls.cost),
    };
  }

  /** Everything recorded under one request id (the latest request with it, and its model calls). */
  request(requestId: string): RequestUsage {
    const request = this.#sql
      .exec<{
        ts: number;
        key_id: string | null;
        route: string;
        method: string;
        status: number;
        latency_ms: number;
        model: string | null;
      }>(
        "SELECT ts, key_id, route, method, status, latency_ms, model FROM requests WHERE request_id = ? ORDER BY id DESC LIMIT 1",
        requestId,
      )
      .toArray()[0];
    const calls = this.#sql
      .exec<{
        ts: number;
        key_id: string | null;
        worker: string;
        operation: string;
        model: string;
        prompt_tokens: number;
        completion_tokens: number;
        latency_ms: number;
        ttft_ms: number | null;
        cache_hit: number;
        outcome: string;
        cost_usd: number;
      }>(
        `SELECT ts, key_id, worker, operation, model, prompt_tokens, completion_tokens, latency_ms, ttft_ms, cache_hit,
           outcome, cost_usd FROM model_calls WHERE request_id = ? ORDER BY id LIMIT 100`,
        requestId,
      )
      .toArray();
    return {
      requestId,
      request: request
        ? {
            ts: request.ts,
            requestId,
            keyId: request.key_id,
            route: request.route,
            method: request.method,
            status: request.status,
            latencyMs: request.latency_ms,
            model: request.model,
          }
        : null,
      modelCalls: calls.map((call) => ({
        ts: call.ts,
        requestId,
        keyId: call.key_id,
        worker: call.worker as RequestUsage["modelCalls"][number]["worker"],
        operation: call.operation as RequestUsage["modelCalls"][number]["operation"],
        model: call.model,
        promptTokens: call.prompt_tokens,
        completionTokens: call.completion_tokens,
        latencyMs: call.latency_ms,
        ttftMs: call.ttft_ms,
        cacheHit: call.cache_hit === 1,
        outcome: call.outcome as RequestUsage["modelCalls"][number]["outcome"],
        costUsd: roundUsd(call.cost_usd),
      })),
    };
  }

  counts(): UsageCounts {
    return {
      requests: this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM requests").one().n,
      modelCalls: this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM model_calls").one().n,
    };
  }

  /** Deletes at most `limit` rows of each table, oldest first. */
  eraseBatch(limit: number): void {
    this.#sql.exec("DELETE FROM requests WHERE id IN (SELECT id FROM requests ORDER BY id LIMIT ?)", limit);
    this.#sql.exec("DELETE FROM model_calls WHERE id IN (SELECT id FROM model_calls ORDER BY id LIMIT ?)", limit);
  }

  /** Deletes the rows older than `beforeMs`. */
  prune(beforeMs: number): void {
    this.#sql.exec("DELETE FROM requests WHERE ts < ?", beforeMs);
    this.#sql.exec("DELETE FROM model_calls WHERE ts < ?", beforeMs);
  }

  isEmpty(): boolean {
    const { requests, modelCalls } = this.counts();
    return requests + modelCalls === 0;
  }
}
