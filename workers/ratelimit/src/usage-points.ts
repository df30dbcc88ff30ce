/**
 * Usage points as they arrive over RPC, checked (the callers are the mesh's own workers, but a bug
 * in one must not write garbage into a tenant's log), priced from the tenant's `pricing` table, and
 * mapped to the Analytics Engine data point each one also becomes in production.
 *
 * Analytics Engine layout (docs/usage.md lists it for SQL queries; never reorder, only append):
 *   index1  tenant id
 *   blob1 kind ("request" | "model")   blob2 request id   blob3 key id ("" when none)
 *   blob4 route (requests)             blob5 method (requests)
 *   blob6 model (model calls)          blob7 worker       blob8 operation   blob9 outcome
 *   double1 status (requests)  double2 latency ms  double3 prompt tokens  double4 completion tokens
 *   double5 ttft ms (-1: none) double6 cost USD    double7 cache hit (0 | 1)
 */
import {
  MODEL_OPERATIONS,
  MODEL_OUTCOMES,
  type ModelCallPoint,
  type RequestPoint,
  type TenantConfig,
  USAGE_LIMITS,
  USAGE_WORKERS,
} from "@crispy/contracts";

/** A checked point, its cost worked out (0 for requests: their cost is their model calls'). */
export type PricedPoint = (RequestPoint & { costUsd: 0 }) | (ModelCallPoint & { costUsd: number });

/** An HTTP method token as the gateway saw it (any method may reach a route matched with `all`). */
const METHOD = /^[A-Z]{1,16}$/;
const MAX_TOKENS = 100_000_000;
const MAX_LATENCY_MS = 86_400_000;

function isCount(value: unknown, max: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

function isText(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max;
}

function oneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (values as readonly string[]).includes(value);
}

/** What is wrong with the fields every point has, or null. */
function commonProblem(point: Record<string, unknown>, now: number): string | null {
  const ts = point.ts;
  if (typeof ts !== "number" || !Number.isSafeInteger(ts)) return "ts must be an epoch-ms integer";
  if (ts < now - USAGE_LIMITS.maxAgeMs || ts > now + USAGE_LIMITS.maxSkewMs) {
    return "ts must lie within the last day (a point is recorded when it happens)";
  }
  if (!isText(point.requestId, USAGE_LIMITS.maxRequestIdLength)) {
    return `requestId must be 1-${USAGE_LIMITS.maxRequestIdLength} characters`;
  }
  if (point.keyId !== null && !isText(point.keyId, USAGE_LIMITS.maxKeyIdLength)) {
    return `keyId must be null or 1-${USAGE_LIMITS.maxKeyIdLength} characters`;
  }
  if (!isCount(point.latencyMs, MAX_LATENCY_MS)) return `latencyMs must be an integer from 0 to ${MAX_LATENCY_MS}`;
  return null;
}

function requestProblem(point: Record<string, unknown>): string | null {
  if (!isText(point.route, USAGE_LIMITS.maxRouteLength) || !String(point.route).startsWith("/")) {
    return `route must be a route pattern of 1-${USAGE_LIMITS.maxRouteLength} characters starting with "/"`;
  }
  if (typeof point.method !== "string" || !METHOD.test(point.method)) return "method must be an HTTP method";
  if (!isCount(point.status, 599) || (point.status as number) < 100) return "status must be an HTTP status (100-599)";
  return null;
}

function modelCallProblem(point: Record<string, unknown>): string | null {
  if (!oneOf(USAGE_WORKERS, point.worker)) return `worker must be one of ${USAGE_WORKERS.join(", ")}`;
  if (!oneOf(MODEL_OPERATIONS, point.operation)) return `operation must be one of ${MODEL_OPERATIONS.join(", ")}`;
  if (!isText(point.model, USAGE_LIMITS.maxModelLength))
    return `model must be 1-${USAGE_LIMITS.maxModelLength} characters`;
  for (const field of ["promptTokens", "completionTokens"] as const) {
    if (!isCount(point[field], MAX_TOKENS)) return `${field} must be an integer from 0 to ${MAX_TOKENS}`;
  }
  if (point.ttftMs !== null && !isCount(point.ttftMs, MAX_LATENCY_MS)) return "ttftMs must be null or a whole number";
  if (typeof point.cacheHit !== "boolean") return "cacheHit must be a boolean";
  if (!oneOf(MODEL_OUTCOMES, point.outcome)) return `outcome must be one of ${MODEL_OUTCOMES.join(", ")}`;
  return null;
}

/** USD for a call's tokens at the tenant's price of its model (0 when the model is not priced). */
export function costOf(pricing: TenantConfig["pricing"], model: string, prompt: number, completion: number): number {
  const price = Object.hasOwn(pricing ?? {}, model) ? pricing[model] : undefined;
  if (!price) return 0;
  const cost = (prompt * price.promptUsdPerMillion + completion * price.completionUsdPerMillion) / 1_000_000;
  return Number.isFinite(cost) && cost >= 0 ? cost : 0;
}

/** The checked, priced points, or the first problem ("points[3].route must …"). */
export function checkPoints(
  points: unknown,
  pricing: TenantConfig["pricing"],
  now: number,
): { ok: true; points: PricedPoint[] } | { ok: false; problem: string } {
  if (!Array.isArray(points) || points.length === 0 || points.length > USAGE_LIMITS.maxPointsPerCall) {
    return { ok: false, problem: `points must be an array of 1-${USAGE_LIMITS.maxPointsPerCall} usage points` };
  }
  const priced: PricedPoint[] = [];
  for (const [index, raw] of points.entries()) {
    const point = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const problem =
      point.kind === "request"
        ? (commonProblem(point, now) ?? requestProblem(point))
        : point.kind === "model"
          ? (commonProblem(point, now) ?? modelCallProblem(point))
          : 'kind must be "request" or "model"';
    if (problem) return { ok: false, problem: `points[${index}].${problem}` };
    if (point.kind === "request") {
      priced.push({ ...(point as unknown as RequestPoint), costUsd: 0 });
    } else {
      const call = point as unknown as ModelCallPoint;
      priced.push({ ...call, costUsd: costOf(pricing, call.model, call.promptTokens, call.completionTokens) });
    }
  }
  return { ok: true, points: priced };
}

/** The Analytics Engine data point of `point` (layout in the header). */
export function dataPointOf(tenantId: string, point: PricedPoint): AnalyticsEngineDataPoint {
  const isRequest = point.kind === "request";
  return {
    indexes: [tenantId],
    blobs: [
      point.kind,
      point.requestId,
      point.keyId ?? "",
      isRequest ? point.route : "",
      isRequest ? point.method : "",
      isRequest ? "" : point.model,
      isRequest ? "gateway" : point.worker,
      isRequest ? "" : point.operation,
      isRequest ? "" : point.outcome,
    ],
    doubles: [
      isRequest ? point.status : 0,
      point.latencyMs,
      isRequest ? 0 : point.promptTokens,
      isRequest ? 0 : point.completionTokens,
      isRequest ? -1 : (point.ttftMs ?? -1),
      point.costUsd,
      !isRequest && point.cacheHit ? 1 : 0,
    ],
  };
}
