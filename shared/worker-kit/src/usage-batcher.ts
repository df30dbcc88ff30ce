/**
 * Usage points of one isolate, sent in batches: the gateway's request points and chat's and rag's
 * model-call points alike (docs/usage.md). A point waits at most USAGE_FLUSH_DELAY_MS, then every
 * tenant's waiting points go in one `recordUsage` call per tenant (at most
 * USAGE_LIMITS.maxPointsPerCall each; a tenant reaching that many is sent at once). So a busy
 * isolate makes about one call per tenant per second, not one per request, and nothing of it is on
 * the response path. Each worker keeps one batcher at module scope (one per isolate); the sending,
 * the keeping alive and the clock are passed in (`UsageSink`), so the batcher itself is pure.
 *
 * Invariants:
 * - A call carries one tenant's points only, with that tenant's context (the latest one seen: its
 *   config prices the model calls; every point keeps its own request and key ids).
 * - The flush is kept alive by the `waitUntil` of the request that scheduled it, so the points of
 *   a request whose client went away are sent all the same.
 * - A flush whose timer never fired (its request context was torn down first, say a Durable
 *   Object reset) blocks nothing: the next point after its due time schedules a new one.
 *
 * What can be lost: the points of a call that fails (the sink reports them, and the worker logs
 * them), and those waiting in an isolate that dies within the delay. Usage reports are analytics,
 * not the budget: token budgets are charged by the QuotaLedger, whatever happens here.
 */
import { type TenantContext, USAGE_LIMITS, type UsagePoint } from "@crispy/contracts";
import { errorMessage } from "./util";

export const USAGE_FLUSH_DELAY_MS = 1_000;
/** Tenants waiting at once; past it the oldest tenant's points are sent early. */
const MAX_TENANTS = 1_000;

export interface UsageSink<P extends UsagePoint> {
  /** Sends one tenant's points; never rejects (failures are the sink's to report). */
  send(tenant: TenantContext, points: P[]): Promise<void>;
  /** Keeps `work` alive past the response (`ctx.waitUntil` of the request that started it). */
  keepAlive(work: Promise<unknown>): void;
  sleep(ms: number): Promise<void>;
  /** Epoch ms. */
  now(): number;
}

interface Waiting<P> {
  tenant: TenantContext;
  points: P[];
}

export class UsageBatcher<P extends UsagePoint = UsagePoint> {
  readonly #waiting = new Map<string, Waiting<P>>();
  /** When the scheduled flush is due; null when none is scheduled. */
  #due: number | null = null;

  /** Queues `points` of `tenant`; schedules the flush when none is, or sends a full batch now. */
  add(tenant: TenantContext, points: readonly P[], sink: UsageSink<P>): void {
    for (const point of points) this.#push(tenant, point, sink);
    if (this.#waiting.size === 0) return;
    const now = sink.now();
    // A flush is due, and not so far overdue that its timer must have been lost with its context.
    if (this.#due !== null && now < this.#due + USAGE_FLUSH_DELAY_MS) return;
    const due = now + USAGE_FLUSH_DELAY_MS;
    this.#due = due;
    sink.keepAlive(
      sink.sleep(USAGE_FLUSH_DELAY_MS).then(() => {
        if (this.#due === due) this.#due = null;
        return this.flush(sink);
      }),
    );
  }

  /** Sends every waiting point now. */
  async flush(sink: UsageSink<P>): Promise<void> {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    await Promise.all(all.map(({ tenant, points }) => sink.send(tenant, points)));
  }

  /** Points waiting (for tests). */
  get size(): number {
    let n = 0;
    for (const { points } of this.#waiting.values()) n += points.length;
    return n;
  }

  #push(tenant: TenantContext, point: P, sink: UsageSink<P>): void {
    let waiting = this.#waiting.get(tenant.tenantId);
    if (!waiting) {
      if (this.#waiting.size >= MAX_TENANTS) this.#sendNow(this.#waiting.keys().next().value as string, sink);
      waiting = { tenant, points: [] };
      this.#waiting.set(tenant.tenantId, waiting);
    }
    waiting.tenant = tenant;
    waiting.points.push(point);
    if (waiting.points.length >= USAGE_LIMITS.maxPointsPerCall) this.#sendNow(tenant.tenantId, sink);
  }

  #sendNow(tenantId: string, sink: UsageSink<P>): void {
    const waiting = this.#waiting.get(tenantId);
    if (!waiting) return;
    this.#waiting.delete(tenantId);
    sink.keepAlive(sink.send(waiting.tenant, waiting.points));
  }
}

/** crispy-ratelimit's `recordUsage`, as a worker's RATELIMIT binding offers it. */
export interface UsageRecorder {
  recordUsage(
    tenant: TenantContext,
    points: UsagePoint[],
  ): Promise<{ ok: true } | { ok: false; error: { code: string; message: string } }>;
}

/**
 * The sink of one request: points go to `recorder.recordUsage`, kept alive by `keepAlive` (the
 * request's `ctx.waitUntil`); a call that fails or is refused is reported to `lost` (the worker
 * logs it as its `usage_not_recorded` event), never thrown.
 */
export function usageSink<P extends UsagePoint>(
  recorder: UsageRecorder,
  keepAlive: (work: Promise<unknown>) => void,
  lost: (tenant: TenantContext, points: number, reason: string) => void,
): UsageSink<P> {
  return {
    send: async (tenant, points) => {
      try {
        const result = await recorder.recordUsage(tenant, points);
        if (!result.ok) lost(tenant, points.length, `${result.error.code}: ${result.error.message}`);
      } catch (error) {
        lost(tenant, points.length, errorMessage(error));
      }
    },
    keepAlive,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
  };
}
