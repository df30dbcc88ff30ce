/**
 * QuotaLedger Durable Object: one per tenant (named by the tenant id), owning that tenant's token
 * budgets — tokens used per UTC day and per UTC month, and the open leases against them.
 *
 * A lease is a block of tokens reserved for one gateway isolate, which spends it locally on chat
 * turns and reports what they used. One call, `lease`, does everything: it charges the usage
 * reported since the last call, then resizes the lease toward the size asked for (opening it when
 * there is none, closing it at size 0). Budgets come from the tenant config on every call.
 *
 * Invariants:
 * - A lease grows only while used + every lease's tokens ≤ limit holds for BOTH the current day
 *   and the current month; check and write run synchronously, so concurrent calls can never
 *   oversubscribe a budget. A budget of 0 admits nothing. A lease never grows beyond
 *   LEASE_FRACTION of the free headroom unless the caller's `min` needs more, so one isolate
 *   cannot hold a tenant's whole budget idle.
 * - Charges go to the day and month the lease was opened in; a lease still open after the day or
 *   month rolled over is moved to the new windows by its next call (its tokens re-checked there).
 * - A lease not renewed (by any call on it) within the TTL (env RESERVATION_TTL_SECONDS, default
 *   15 minutes) is closed by the alarm — or by the next call, whichever comes first — and charged
 *   at its full size. This is deliberately conservative: an isolate that dies holding tokens
 *   cannot make the tenant's spend exceed the budget.
 * - Usage rows older than ~2 months (days) or ~13 months (months) are pruned by the alarm.
 * - Tenant erasure (`erase`, erase.ts) deletes the whole storage and alarm at once.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type BudgetLease,
  fail,
  type LeaseRequest,
  ok,
  type QuotaUsage,
  type RpcResult,
  type TenantConfig,
  type TokenWindowUsage,
} from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";
import { configOf } from "./config";
import { windowsAt } from "./windows";

export type TokenBudgets = TenantConfig["budgets"];

/** A lease grows to at most this share of the free headroom (unless its caller's `min` needs more). */
export const LEASE_FRACTION = 0.25;
const KEEP_DAYS = 62;
const KEEP_MONTHS = 13;
const DAY_MS = 86_400_000;

/** The lease columns naming its windows, and the usage table of each. */
const WINDOW_TABLES = {
  daily: { table: "daily_usage", column: "day" },
  monthly: { table: "monthly_usage", column: "month" },
} as const;

type WindowName = keyof typeof WINDOW_TABLES;

type LeaseRow = {
  id: string;
  tokens: number;
  day: string;
  month: string;
  expires_at: number;
};

function isTokenCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function budgetsError(budgets: TokenBudgets): string | null {
  if (!isTokenCount(budgets?.dailyTokens) || !isTokenCount(budgets?.monthlyTokens)) {
    return "budgets.dailyTokens and budgets.monthlyTokens must be non-negative integers";
  }
  return null;
}

function leaseRequestError(request: LeaseRequest): string | null {
  if (typeof request !== "object" || request === null) return "lease request must be an object";
  if (request.leaseId !== null && (typeof request.leaseId !== "string" || request.leaseId.length > 64)) {
    return "leaseId must be null or a lease id";
  }
  for (const field of ["charge", "size", "min"] as const) {
    if (!isTokenCount(request[field])) return `${field} must be a non-negative integer`;
  }
  if (request.min > request.size) return "min cannot exceed size";
  return null;
}

export class QuotaLedger extends DurableObject<RatelimitEnv> {
  readonly #sql: SqlStorage;
  readonly #ttlMs: number;

  constructor(ctx: DurableObjectState, env: RatelimitEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ttlMs = configOf(env).RESERVATION_TTL_SECONDS * 1000;
    this.#migrate();
  }

  #migrate(): void {
    migrateSchema(this.ctx.storage, [
      `
        CREATE TABLE daily_usage (day TEXT PRIMARY KEY, used INTEGER NOT NULL);
        CREATE TABLE monthly_usage (month TEXT PRIMARY KEY, used INTEGER NOT NULL);
        CREATE TABLE reservations (
          id TEXT PRIMARY KEY,
          tokens INTEGER NOT NULL,
          day TEXT NOT NULL,
          month TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE INDEX reservations_by_expiry ON reservations (expires_at);
        CREATE INDEX reservations_by_day ON reservations (day);
        CREATE INDEX reservations_by_month ON reservations (month);
      `,
    ]);
  }

  /**
   * Charges `charge` tokens to lease `leaseId` (usage reported since the last call), then resizes
   * the lease toward `size` tokens: shrinking always succeeds (0 closes it); growing is granted up
   * to the headroom (at most LEASE_FRACTION of it, unless `min` needs more) and fails with
   * "budget_exceeded" when not even `min` fits — the charge stands and the lease keeps its size.
   * `leaseId` null opens a new lease. Every call renews the lease's expiry.
   */
  async lease(request: LeaseRequest, budgets: TokenBudgets): Promise<RpcResult<BudgetLease>> {
    const invalid = budgetsError(budgets) ?? leaseRequestError(request);
    if (invalid) return fail("bad_request", invalid);
    const now = Date.now();
    this.#closeExpired(now);
    let row: LeaseRow | null = null;
    if (request.leaseId !== null) {
      row = this.#row(request.leaseId);
      if (!row)
        return fail("not_found", `lease ${request.leaseId} is unknown or expired (expired leases are charged in full)`);
    }
    const result = this.ctx.storage.transactionSync((): RpcResult<BudgetLease> => {
      if (row) row = this.#chargeAndRoll(row, request.charge, now);
      const current = row?.tokens ?? 0;
      if (request.size <= current) return ok(this.#resize(row, request.size, now, budgets));
      const free = this.#headroom(budgets, now, row?.id ?? null);
      const cap = Math.max(request.min, Math.floor(free.tokens * LEASE_FRACTION));
      const size = Math.min(request.size, free.tokens, cap);
      if (size < request.min) {
        const kept = row ? this.#resize(row, current, now, budgets).leaseId : null;
        const { name, usage } = free.binding;
        return fail(
          "budget_exceeded",
          `${name} token budget exceeded: ${request.min - current} more tokens requested, ` +
            `${usage.remaining} remaining until ${usage.resetsAt}`,
          {
            resetsAt: usage.resetsAt,
            remaining: usage.remaining,
            window: name,
            leaseId: kept,
            size: kept ? current : 0,
          },
        );
      }
      return ok(this.#resize(row, Math.max(size, current), now, budgets));
    });
    await this.#armAlarm();
    return result;
  }

  /** Reads today's and this month's usage against `budgets`. */
  async usage(budgets: TokenBudgets): Promise<RpcResult<QuotaUsage>> {
    const invalid = budgetsError(budgets);
    if (invalid) return fail("bad_request", invalid);
    const now = Date.now();
    this.#closeExpired(now);
    return ok(this.#usage(budgets, now));
  }

  /** Tenant erasure (erase.ts): how many rows the ledger holds (usage windows and open leases). */
  async erasureCount(): Promise<number> {
    return this.#rowCount();
  }

  /**
   * Tenant erasure: deletes the ledger's whole storage and alarm (open leases included, uncharged:
   * the tenant's usage goes with it) and starts this instance over on empty tables; returns how
   * many rows it held.
   */
  async erase(): Promise<number> {
    const rows = this.#rowCount();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#migrate();
    return rows;
  }

  #rowCount(): number {
    return this.#sql
      .exec<{ n: number }>(
        `SELECT (SELECT COUNT(*) FROM daily_usage) + (SELECT COUNT(*) FROM monthly_usage)
           + (SELECT COUNT(*) FROM reservations) AS n`,
      )
      .one().n;
  }

  /** Charges expired leases in full, prunes old windows, re-arms itself. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#closeExpired(now);
    this.#prune(now);
    await this.#armAlarm();
  }

  #row(id: string): LeaseRow | null {
    return (
      this.#sql
        .exec<LeaseRow>("SELECT id, tokens, day, month, expires_at FROM reservations WHERE id = ?", id)
        .toArray()[0] ?? null
    );
  }

  /** Adds `tokens` of usage to a day's and a month's totals. */
  #addUsage(day: string, month: string, tokens: number): void {
    if (tokens === 0) return;
    const windows = { day, month };
    for (const { table, column } of Object.values(WINDOW_TABLES)) {
      this.#sql.exec(
        `INSERT INTO ${table} (${column}, used) VALUES (?, ?)
         ON CONFLICT (${column}) DO UPDATE SET used = used + excluded.used`,
        windows[column],
        tokens,
      );
    }
  }

  /**
   * Charges usage to the lease's own windows (the lease shrinks by it, never below 0: usage beyond
   * the lease is still charged), then moves a lease from a past day or month into the current
   * windows with the tokens it has left.
   */
  #chargeAndRoll(row: LeaseRow, charge: number, now: number): LeaseRow {
    this.#addUsage(row.day, row.month, charge);
    const { day, month } = windowsAt(now);
    const next = { ...row, tokens: Math.max(0, row.tokens - charge), day, month };
    this.#sql.exec(
      "UPDATE reservations SET tokens = ?, day = ?, month = ? WHERE id = ?",
      next.tokens,
      day,
      month,
      row.id,
    );
    return next;
  }

  /** Sets a lease's size (0 closes it; no row opens one) and renews its expiry; returns the lease as it stands. */
  #resize(row: LeaseRow | null, size: number, now: number, budgets: TokenBudgets): BudgetLease {
    const expiresAt = now + this.#ttlMs;
    let id: string | null = row?.id ?? null;
    if (size === 0) {
      if (id) this.#sql.exec("DELETE FROM reservations WHERE id = ?", id);
      id = null;
    } else if (id) {
      this.#sql.exec("UPDATE reservations SET tokens = ?, expires_at = ? WHERE id = ?", size, expiresAt, id);
    } else {
      id = crypto.randomUUID();
      const { day, month } = windowsAt(now);
      this.#sql.exec(
        "INSERT INTO reservations (id, tokens, day, month, expires_at) VALUES (?, ?, ?, ?, ?)",
        id,
        size,
        day,
        month,
        expiresAt,
      );
    }
    const usage = this.#windows(budgets, now);
    return {
      leaseId: id,
      size: id ? size : 0,
      expiresAt: id ? new Date(expiresAt).toISOString() : null,
      daily: usage.daily,
      monthly: usage.monthly,
    };
  }

  /**
   * Tokens a lease may still grow to (both windows): the limit less what is used and what every
   * other lease holds, for the binding window — the one with fewer left. Not clamped per window
   * before the lease's own tokens are added back, so an over-committed window reads as none left.
   */
  #headroom(
    budgets: TokenBudgets,
    now: number,
    ownId: string | null,
  ): { tokens: number; binding: { name: WindowName; usage: TokenWindowUsage } } {
    const windows = this.#windows(budgets, now);
    const own = ownId ? (this.#row(ownId)?.tokens ?? 0) : 0;
    const free = (usage: TokenWindowUsage) => (usage.limit === 0 ? 0 : usage.limit - usage.used - usage.reserved + own);
    // Monthly first: when both are exhausted, the month is the window worth waiting for.
    const name: WindowName = free(windows.daily) < free(windows.monthly) ? "daily" : "monthly";
    const usage = windows[name];
    return { tokens: Math.max(0, free(usage)), binding: { name, usage } };
  }

  #closeExpired(now: number): void {
    const expired = this.#sql
      .exec<LeaseRow>("SELECT id, tokens, day, month, expires_at FROM reservations WHERE expires_at <= ?", now)
      .toArray();
    if (expired.length === 0) return;
    this.ctx.storage.transactionSync(() => {
      for (const lease of expired) {
        this.#addUsage(lease.day, lease.month, lease.tokens);
        this.#sql.exec("DELETE FROM reservations WHERE id = ?", lease.id);
      }
    });
  }

  #prune(now: number): void {
    const oldestDay = windowsAt(now - KEEP_DAYS * DAY_MS).day;
    const today = new Date(now);
    const oldestMonth = windowsAt(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - KEEP_MONTHS, 1)).month;
    this.#sql.exec("DELETE FROM daily_usage WHERE day < ? AND day NOT IN (SELECT day FROM reservations)", oldestDay);
    this.#sql.exec(
      "DELETE FROM monthly_usage WHERE month < ? AND month NOT IN (SELECT month FROM reservations)",
      oldestMonth,
    );
  }

  /** The alarm goes off when the earliest open lease expires (or is cleared when none is open). */
  async #armAlarm(): Promise<void> {
    const next = this.#sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM reservations").one().next;
    const current = await this.ctx.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current === null || current !== next) {
      await this.ctx.storage.setAlarm(next);
    }
  }

  #usage(budgets: TokenBudgets, now: number): QuotaUsage {
    const windows = this.#windows(budgets, now);
    const open = this.#sql.exec<{ open: number }>("SELECT COUNT(*) AS open FROM reservations").one().open;
    return { ...windows, openReservations: open };
  }

  #windows(budgets: TokenBudgets, now: number): Omit<QuotaUsage, "openReservations"> {
    const current = windowsAt(now);
    return {
      daily: this.#window("daily", current.day, budgets.dailyTokens, current.dayEndsAt),
      monthly: this.#window("monthly", current.month, budgets.monthlyTokens, current.monthEndsAt),
    };
  }

  #window(name: WindowName, key: string, limit: number, endsAt: number): TokenWindowUsage {
    const { table, column } = WINDOW_TABLES[name];
    const used =
      this.#sql.exec<{ used: number }>(`SELECT used FROM ${table} WHERE ${column} = ?`, key).toArray()[0]?.used ?? 0;
    const reserved = this.#sql
      .exec<{ reserved: number }>(
        `SELECT COALESCE(SUM(tokens), 0) AS reserved FROM reservations WHERE ${column} = ?`,
        key,
      )
      .one().reserved;
    return {
      limit,
      used,
      reserved,
      remaining: Math.max(0, limit - used - reserved),
      resetsAt: new Date(endsAt).toISOString(),
    };
  }
}
