/**
 * UsageLog Durable Object: one per tenant (named by the tenant id), the source of truth for the
 * tenant's usage reports — a row per authenticated request (from the gateway) and a row per model
 * call (from chat and rag), SQL in usage-store.ts. Works offline (`pnpm dev`, tests); production
 * also sends every point to Analytics Engine (the entrypoint does, before calling this object).
 *
 * Invariants:
 * - Only this tenant's rows are here: the object's name is the tenant id, and nothing else writes.
 * - Points are written in one transaction per call, already checked and priced by the entrypoint.
 * - Retention: the alarm (armed when rows are written, then daily) deletes rows older than
 *   USAGE_LIMITS.retentionDays; with no rows left it is not re-armed.
 * - Erasure leaves nothing: `eraseBatch` deletes rows in bounded batches and, once both tables are
 *   empty, the alarm and the whole storage. Reads never create the schema; only a write does, so
 *   an erased (or never used) tenant's object holds no storage at all.
 */
import { DurableObject } from "cloudflare:workers";
import {
  emptyTotals,
  type RequestUsage,
  USAGE_LIMITS,
  type UsageCounts,
  type UsageGroup,
  type UsageRow,
  type UsageTotals,
} from "@crispy/contracts";
import type { PricedPoint } from "./usage-points";
import { UsageStore } from "./usage-store";

const DAY_MS = 86_400_000;

export class UsageLog extends DurableObject<RatelimitEnv> {
  readonly #store: UsageStore;
  /** False in an object never written to, or erased: its storage stays empty until a write. */
  #hasSchema: boolean;
  #alarmArmed = false;

  constructor(ctx: DurableObjectState, env: RatelimitEnv) {
    super(ctx, env);
    this.#store = new UsageStore(ctx.storage);
    this.#hasSchema = this.#store.exists();
    if (this.#hasSchema) this.#store.migrate();
  }

  /** Writes checked, priced points; how many. */
  async record(points: PricedPoint[]): Promise<number> {
    this.#ensureSchema();
    this.#store.insert(points);
    if (!this.#alarmArmed) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
      this.#alarmArmed = true;
    }
    return points.length;
  }

  /** The rows and totals of [fromMs, toMs), grouped; only `keyId`'s usage when it is not null. */
  async report(
    fromMs: number,
    toMs: number,
    groupBy: UsageGroup,
    keyId: string | null,
  ): Promise<{ rows: UsageRow[]; totals: UsageTotals }> {
    if (!this.#hasSchema) return { rows: [], totals: emptyTotals() };
    return { rows: this.#store.report(fromMs, toMs, groupBy, keyId), totals: this.#store.totals(fromMs, toMs, keyId) };
  }

  /** What was recorded under one request id; only `keyId`'s rows when it is not null. */
  async request(requestId: string, keyId: string | null): Promise<RequestUsage> {
    if (!this.#hasSchema) return { requestId, request: null, modelCalls: [] };
    const found = this.#store.request(requestId);
    if (keyId === null) return found;
    return {
      requestId,
      request: found.request?.keyId === keyId ? found.request : null,
      modelCalls: found.modelCalls.filter((call) => call.keyId === keyId),
    };
  }

  /** Rows held, per table. */
  async counts(): Promise<UsageCounts> {
    return this.#hasSchema ? this.#store.counts() : { requests: 0, modelCalls: 0 };
  }

  /**
   * Deletes at most `limit` rows of each table (erasure works in bounded batches); `done` once
   * none is left, when the alarm and the whole storage are deleted too.
   */
  async eraseBatch(limit: number): Promise<{ deleted: UsageCounts; done: boolean }> {
    const size = Number.isSafeInteger(limit) && limit > 0 ? limit : 1;
    if (!this.#hasSchema) return { deleted: { requests: 0, modelCalls: 0 }, done: true };
    const before = this.#store.counts();
    this.#store.eraseBatch(size);
    const after = this.#store.counts();
    const deleted = { requests: before.requests - after.requests, modelCalls: before.modelCalls - after.modelCalls };
    if (after.requests + after.modelCalls > 0) return { deleted, done: false };
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#hasSchema = false;
    this.#alarmArmed = false;
    return { deleted, done: true };
  }

  /** Prunes rows past retention; re-arms for tomorrow while rows remain. */
  override async alarm(): Promise<void> {
    if (!this.#hasSchema) return;
    const now = Date.now();
    this.#store.prune(now - USAGE_LIMITS.retentionDays * DAY_MS);
    this.#alarmArmed = !this.#store.isEmpty();
    if (this.#alarmArmed) await this.ctx.storage.setAlarm(now + DAY_MS);
  }

  #ensureSchema(): void {
    if (this.#hasSchema) return;
    this.#store.migrate();
    this.#hasSchema = true;
  }
}
