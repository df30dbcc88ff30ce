/**
 * Request points of one gateway isolate, sent in batches: a point waits at most FLUSH_DELAY_MS,
 * then every tenant's waiting points go in one `recordUsage` call per tenant (at most
 * USAGE_LIMITS.maxPointsPerCall each; a tenant reaching that many is sent at once). So a busy
 * isolate makes about one call per tenant per second, not one per request, and nothing of it is on
 * the response path. Pure: the sending, the keeping alive and the clock are passed in.
 *
 * What can be lost: the points of a batch whose call fails (logged by the sender), and those waiting
 * in an isolate that dies within the delay. Usage reports are analytics, not the budget: token
 * budgets are charged by the QuotaLedger, whatever happens here.
 */
import { type RequestPoint, type TenantContext, USAGE_LIMITS } from "@crispy/contracts";

export const FLUSH_DELAY_MS = 1_000;
/** Tenants waiting at once; past it the oldest tenant's points are sent early. */
const MAX_TENANTS = 1_000;

export interface BatchSink {
  /** Sends one tenant's points; never rejects (failures are the sink's to log). */
  send(tenant: TenantContext, points: RequestPoint[]): Promise<void>;
  /** Keeps `work` alive past the response (`ctx.waitUntil` of the request that started it). */
  keepAlive(work: Promise<unknown>): void;
  sleep(ms: number): Promise<void>;
}

interface Waiting {
  /** The context of the latest request of the tenant: the call carries its ids. */
  tenant: TenantContext;
  points: RequestPoint[];
}

export class UsageBatcher {
  readonly #waiting = new Map<string, Waiting>();
  #scheduled = false;

  /** Queues one point; schedules the flush when none is, or sends a full batch now. */
  add(tenant: TenantContext, point: RequestPoint, sink: BatchSink): void {
    let waiting = this.#waiting.get(tenant.tenantId);
    if (!waiting) {
      if (this.#waiting.size >= MAX_TENANTS) this.#sendNow(this.#waiting.keys().next().value as string, sink);
      waiting = { tenant, points: [] };
      this.#waiting.set(tenant.tenantId, waiting);
    }
    waiting.tenant = tenant;
    waiting.points.push(point);
    if (waiting.points.length >= USAGE_LIMITS.maxPointsPerCall) {
      this.#sendNow(tenant.tenantId, sink);
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    sink.keepAlive(
      sink.sleep(FLUSH_DELAY_MS).then(() => {
        this.#scheduled = false;
        return this.flush(sink);
      }),
    );
  }

  /** Sends every waiting point now. */
  async flush(sink: BatchSink): Promise<void> {
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

  #sendNow(tenantId: string, sink: BatchSink): void {
    const waiting = this.#waiting.get(tenantId);
    if (!waiting) return;
    this.#waiting.delete(tenantId);
    sink.keepAlive(sink.send(waiting.tenant, waiting.points));
  }
}
