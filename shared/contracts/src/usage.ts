/**
 * Usage analytics: the points the workers record (one per authenticated request, written by the
 * gateway; one per model call, written by the worker that called the model), the reports
 * `GET /v1/usage` and `GET /admin/usage` read, and their limits. Points go to crispy-ratelimit's
 * `recordUsage` (its UsageLog Durable Object per tenant, and Analytics Engine in production); see
 * docs/usage.md.
 */
import { z } from "zod";

export const USAGE_LIMITS = {
  /** Points in one `recordUsage` call (Analytics Engine takes 250 data points per invocation). */
  maxPointsPerCall: 200,
  /** Days one report may span (Analytics Engine keeps data three months). */
  maxRangeDays: 93,
  /** Days the UsageLog keeps rows before its alarm prunes them. */
  retentionDays: 400,
  maxRequestIdLength: 128,
  maxKeyIdLength: 64,
  maxRouteLength: 128,
  maxModelLength: 128,
  /** A point may be this much older than the moment it is recorded (a delayed batch)… */
  maxAgeMs: 86_400_000,
  /** …or this much newer (clock skew between machines). */
  maxSkewMs: 300_000,
} as const;

export const USAGE_WORKERS = ["chat", "rag"] as const;
export type UsageWorker = (typeof USAGE_WORKERS)[number];

/** What a model call was for: a chat turn or completion, a search answer, an embedding. */
export const MODEL_OPERATIONS = ["chat", "search", "embed"] as const;
export type ModelOperation = (typeof MODEL_OPERATIONS)[number];

/** How a model call ended: answered, failed, or cut short by the client (tokens so far counted). */
export const MODEL_OUTCOMES = ["ok", "error", "aborted"] as const;
export type ModelOutcome = (typeof MODEL_OUTCOMES)[number];

/** One authenticated request, as the gateway saw it when it answered. */
export interface RequestPoint {
  kind: "request";
  /** Epoch ms the request arrived. */
  ts: number;
  requestId: string;
  keyId: string | null;
  /** The route pattern (`/v1/sessions/:sessionId`), never the raw path with its ids. */
  route: string;
  method: string;
  status: number;
  /** Milliseconds until the response (for a stream: until it started). */
  latencyMs: number;
}

/** One model call (or a search answer served from the cache in place of one). */
export interface ModelCallPoint {
  kind: "model";
  /** Epoch ms the call started. */
  ts: number;
  requestId: string;
  keyId: string | null;
  worker: UsageWorker;
  operation: ModelOperation;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Milliseconds the call took, to its last token. */
  latencyMs: number;
  /** Milliseconds to the first token, when the call streamed one. */
  ttftMs: number | null;
  cacheHit: boolean;
  outcome: ModelOutcome;
}

export type UsagePoint = RequestPoint | ModelCallPoint;

export const USAGE_GROUPS = ["day", "key", "model", "route"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

/** A tenant's report: UTC days `from`..`to` (inclusive, `YYYY-MM-DD`), grouped by `groupBy`. */
export interface UsageQuery {
  from: string;
  to: string;
  groupBy: UsageGroup;
  /** Only this key's usage (a non-admin key always sees only its own). */
  keyId?: string;
}

export interface UsageTotals {
  requests: number;
  /** Requests answered 4xx / 5xx. */
  errors4xx: number;
  errors5xx: number;
  /** Request latency, nearest-rank percentiles; null when there were no requests. */
  p50Ms: number | null;
  p99Ms: number | null;
  modelCalls: number;
  /** Search answers served from the cache (no model ran). */
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** From the tenant's `pricing` table when the call was recorded. */
  costUsd: number;
}

/** Totals of no usage at all: the start of every sum, and a day without usage. */
export function emptyTotals(): UsageTotals {
  return {
    requests: 0,
    errors4xx: 0,
    errors5xx: 0,
    p50Ms: null,
    p99Ms: null,
    modelCalls: 0,
    cacheHits: 0,
    promptTokens: 0,
    completionTokens: 0,
    totalTokens: 0,
    costUsd: 0,
  };
}

export interface UsageRow extends UsageTotals {
  /** The day, key id, model or route of this row ("none" / "unknown" when there is none). */
  group: string;
}

export interface UsageReport {
  range: { from: string; to: string };
  groupBy: UsageGroup;
  keyId: string | null;
  rows: UsageRow[];
  totals: UsageTotals;
}

/** Everything recorded about one request id: the request and its model calls, with their cost. */
export interface RequestUsage {
  requestId: string;
  request: (Omit<RequestPoint, "kind"> & { model: string | null }) | null;
  modelCalls: Array<Omit<ModelCallPoint, "kind"> & { costUsd: number }>;
}

/** How many rows a tenant's UsageLog holds (the erasure job's verification reads it). */
export interface UsageCounts {
  requests: number;
  modelCalls: number;
}

export const OPERATOR_USAGE_GROUPS = ["tenant", "day", "model"] as const;
export type OperatorUsageGroup = (typeof OPERATOR_USAGE_GROUPS)[number];

/** `GET /admin/usage`: every tenant's usage over a range, by tenant, day or model. */
export interface OperatorUsageReport {
  range: { from: string; to: string };
  groupBy: OperatorUsageGroup;
  rows: UsageRow[];
  totals: UsageTotals;
  /** Tenants whose usage could not be read (their rows are missing from the report). */
  unavailable: string[];
}

const DAY_MS = 86_400_000;
/** Days a report covers when the query names no `from`. */
export const DEFAULT_USAGE_DAYS = 30;

/** Epoch ms of a `YYYY-MM-DD` UTC day, or null when it is no real date. */
export function utcDayStart(value: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().slice(0, 10) === value ? ms : null;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const Day = z.string().refine((value) => utcDayStart(value) !== null, "must be a UTC date YYYY-MM-DD");

/** `from`/`to` defaulted (the last DEFAULT_USAGE_DAYS days to today) and checked as a range. */
function withRange<T extends { from?: string; to?: string }>(
  query: T,
  ctx: z.RefinementCtx,
): T & { from: string; to: string } {
  const to = query.to ?? utcDay(Date.now());
  const from = query.from ?? utcDay(utcDayStart(to)! - (DEFAULT_USAGE_DAYS - 1) * DAY_MS);
  const days = (utcDayStart(to)! - utcDayStart(from)!) / DAY_MS + 1;
  if (days < 1) ctx.addIssue({ code: "custom", path: ["to"], message: "must not be before from" });
  else if (days > USAGE_LIMITS.maxRangeDays) {
    ctx.addIssue({
      code: "custom",
      path: ["from"],
      message: `the range spans ${days} days; at most ${USAGE_LIMITS.maxRangeDays}`,
    });
  }
  return { ...query, from, to };
}

/**
 * `GET /v1/usage` query: none of these → the budget readout only; `from`/`to`/`groupBy` (default
 * "day") → a report; `requestId` → what was recorded for that request. `keyId` narrows a report
 * to one key (an admin key's choice; other keys always see only their own).
 */
export const UsageQuerySchema = z
  .object({
    from: Day.optional(),
    to: Day.optional(),
    groupBy: z.enum(USAGE_GROUPS).optional(),
    keyId: z.string().min(1).max(USAGE_LIMITS.maxKeyIdLength).optional(),
    requestId: z.string().min(1).max(USAGE_LIMITS.maxRequestIdLength).optional(),
  })
  .transform((query, ctx) => withRange(query, ctx));

/** `GET /admin/usage` query: every tenant's usage over `from`..`to`, by tenant (default), day or model. */
export const OperatorUsageQuerySchema = z
  .object({
    from: Day.optional(),
    to: Day.optional(),
    groupBy: z.enum(OPERATOR_USAGE_GROUPS).default("tenant"),
  })
  .transform((query, ctx) => withRange(query, ctx));

/** A model call as the worker that made it measured it; the log adds the request's ids. */
export type ModelCallRecord = Omit<ModelCallPoint, "kind" | "requestId" | "keyId" | "worker" | "operation">;

/**
 * The model calls of one request in one worker, sent together in one `recordUsage` call when the
 * request's work there ends (`flush`), off the response path. Sending is the worker's (`send`:
 * its RATELIMIT binding in `ctx.waitUntil`); `enabled: false` (USAGE_RECORDING=off) keeps nothing.
 */
export class ModelCallLog {
  readonly #points: ModelCallPoint[] = [];
  readonly #context: { requestId: string; keyId: string | null; worker: UsageWorker; operation: ModelOperation };
  readonly #send: (points: ModelCallPoint[]) => void;
  readonly #enabled: boolean;

  constructor(
    tenant: { requestId: string; keyId?: string },
    where: { worker: UsageWorker; operation: ModelOperation },
    send: (points: ModelCallPoint[]) => void,
    enabled = true,
  ) {
    this.#context = { requestId: tenant.requestId, keyId: tenant.keyId ?? null, ...where };
    this.#send = send;
    this.#enabled = enabled;
  }

  /** Notes one model call. */
  add(call: ModelCallRecord): void {
    if (!this.#enabled) return;
    this.#points.push({ kind: "model", ...this.#context, ...call });
  }

  /** Sends what was noted since the last flush (nothing when there is nothing). */
  flush(): void {
    if (this.#points.length === 0) return;
    this.#send(this.#points.splice(0, USAGE_LIMITS.maxPointsPerCall));
    if (this.#points.length > 0) this.flush();
  }
}
