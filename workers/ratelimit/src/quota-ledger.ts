/**
 * QuotaLedger Durable Object: one per tenant (named by the tenant id), owning that tenant's token
 * budgets — tokens used per UTC day and per UTC month, and the open reservations against them.
 *
 * Flow: the gateway reserves an estimate before a model call, then settles the actual count (or
 * releases the reservation if nothing ran). Budgets come from the tenant config on every call.
 *
 * Invariants:
 * - A reservation is admitted only if used + reserved + tokens ≤ limit for BOTH the current day
 *   and the current month; check and insert run synchronously, so concurrent reservations can
 *   never oversubscribe a budget. A budget of 0 admits nothing.
 * - A reservation belongs to the day and month it was made in: settling it charges those windows,
 *   even if the day or month has rolled over since.
 * - Every reservation is closed exactly once: by settle (charges the actual count), release
 *   (charges nothing), or expiry. A reservation not settled within the TTL (env
 *   RESERVATION_TTL_SECONDS, default 15 minutes) is closed by the alarm — or by the next call,
 *   whichever comes first — and charged at its reserved ESTIMATE. This is deliberately
 *   conservative: a caller that crashes or disconnects before settling cannot dodge the budget.
 * - Usage rows older than ~2 months (days) or ~13 months (months) are pruned by the alarm; only
 *   the current windows and those of open reservations matter for enforcement.
 */
import { DurableObject } from "cloudflare:workers";
import {
  fail,
  ok,
  type QuotaUsage,
  type Reservation,
  type RpcResult,
  type TenantConfig,
  type TokenWindowUsage,
} from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";
import { configOf } from "./config";
import { windowsAt } from "./windows";

export type TokenBudgets = TenantConfig["budgets"];

const KEEP_DAYS = 62;
const KEEP_MONTHS = 13;
const DAY_MS = 86_400_000;

/** The reservation columns naming its windows, and the usage table of each. */
const WINDOW_TABLES = {
  daily: { table: "daily_usage", column: "day" },
  monthly: { table: "monthly_usage", column: "month" },
} as const;

type ReservationRow = {
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

export class QuotaLedger extends DurableObject<RatelimitEnv> {
  readonly #sql: SqlStorage;
  readonly #ttlMs: number;

  constructor(ctx: DurableObjectState, env: RatelimitEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#ttlMs = configOf(env).RESERVATION_TTL_SECONDS * 1000;
    this.#migrate();
  }

  /** Reserves `tokens` against today's and this month's budgets, atomically. */
  async reserve(tokens: number, budgets: TokenBudgets): Promise<RpcResult<Reservation>> {
    if (!isTokenCount(tokens)) return fail("bad_request", "tokens must be a non-negative integer");
    const invalid = budgetsError(budgets);
    if (invalid) return fail("bad_request", invalid);

    const now = Date.now();
    this.#closeExpired(now);
    const windows = this.#windows(budgets, now);
    // Monthly first: when both are exhausted, the month is the window worth waiting for.
    for (const name of ["monthly", "daily"] as const) {
      const window = windows[name];
      if (window.limit === 0 || window.used + window.reserved + tokens > window.limit) {
        return fail(
          "budget_exceeded",
          `${name} token budget exceeded: ${tokens} requested, ` +
            `${window.remaining} remaining until ${window.resetsAt}`,
          { resetsAt: window.resetsAt, remaining: window.remaining, window: name },
        );
      }
    }

    const { day, month } = windowsAt(now);
    const expiresAt = now + this.#ttlMs;
    const reservationId = crypto.randomUUID();
    this.#sql.exec(
      "INSERT INTO reservations (id, tokens, day, month, expires_at) VALUES (?, ?, ?, ?, ?)",
      reservationId,
      tokens,
      day,
      month,
      expiresAt,
    );
    await this.#ensureAlarmBy(expiresAt);
    return ok({ reservationId, tokens, expiresAt: new Date(expiresAt).toISOString() });
  }

  /** Closes a reservation, charging `actual` tokens to the windows it was made in. */
  async settle(reservationId: string, actual: number, budgets: TokenBudgets): Promise<RpcResult<QuotaUsage>> {
    if (!isTokenCount(actual)) {
      return fail("bad_request", "actualTokens must be a non-negative integer");
    }
    const invalid = budgetsError(budgets);
    if (invalid) return fail("bad_request", invalid);

    const now = Date.now();
    this.#closeExpired(now);
    const reservation = this.#reservation(reservationId);
    if (!reservation) return this.#notFound(reservationId);
    this.ctx.storage.transactionSync(() => this.#close(reservation, actual));
    return ok(this.#usage(budgets, now));
  }

  /** Closes a reservation without charging anything. */
  async release(reservationId: string, budgets: TokenBudgets): Promise<RpcResult<QuotaUsage>> {
    const invalid = budgetsError(budgets);
    if (invalid) return fail("bad_request", invalid);

    const now = Date.now();
    this.#closeExpired(now);
    const reservation = this.#reservation(reservationId);
    if (!reservation) return this.#notFound(reservationId);
    this.ctx.storage.transactionSync(() => this.#close(reservation, 0));
    return ok(this.#usage(budgets, now));
  }

  /** Reads today's and this month's usage against `budgets`. */
  async usage(budgets: TokenBudgets): Promise<RpcResult<QuotaUsage>> {
    const invalid = budgetsError(budgets);
    if (invalid) return fail("bad_request", invalid);

    const now = Date.now();
    this.#closeExpired(now);
    return ok(this.#usage(budgets, now));
  }

  /** Charges expired reservations at their estimate, prunes old windows, re-arms itself. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#closeExpired(now);
    this.#prune(now);
    const next = this.#sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM reservations").one().next;
    if (next !== null) await this.ctx.storage.setAlarm(next);
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

  #reservation(id: string): ReservationRow | undefined {
    if (typeof id !== "string") return undefined;
    return this.#sql
      .exec<ReservationRow>("SELECT id, tokens, day, month, expires_at FROM reservations WHERE id = ?", id)
      .toArray()[0];
  }

  #notFound(id: string): RpcResult<never> {
    return fail("not_found", `reservation ${String(id)} is unknown or already closed`);
  }

  /** Deletes the reservation, charging `charge` to its own day and month (in a transaction). */
  #close(reservation: ReservationRow, charge: number): void {
    this.#sql.exec("DELETE FROM reservations WHERE id = ?", reservation.id);
    if (charge === 0) return;
    for (const { table, column } of Object.values(WINDOW_TABLES)) {
      this.#sql.exec(
        `INSERT INTO ${table} (${column}, used) VALUES (?, ?)
         ON CONFLICT (${column}) DO UPDATE SET used = used + excluded.used`,
        reservation[column],
        charge,
      );
    }
  }

  #closeExpired(now: number): void {
    const expired = this.#sql
      .exec<ReservationRow>("SELECT id, tokens, day, month, expires_at FROM reservations WHERE expires_at <= ?", now)
      .toArray();
    if (expired.length === 0) return;
    this.ctx.storage.transactionSync(() => {
      for (const reservation of expired) this.#close(reservation, reservation.tokens);
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

  async #ensureAlarmBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
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

  #window(name: keyof typeof WINDOW_TABLES, key: string, limit: number, endsAt: number): TokenWindowUsage {
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
