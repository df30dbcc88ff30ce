/**
 * GCRA (generic cell rate algorithm) with burst — pure, no I/O, unit-tested on its own.
 *
 * State is one number, the theoretical arrival time (TAT, epoch ms): the time at which the bucket
 * would be full again. Emission interval T = 60000 / perMinute ms; a request at `now` is admitted
 * when `max(TAT, now) + T - burst·T <= now`, i.e. while fewer than `burst` requests are
 * outstanding, and each admission pushes the TAT forward by T.
 *
 * Admissions are handed out in leases: `lease(state, limit, now, want, giveBack)` first refunds the
 * `giveBack` admissions an earlier lease did not use, then grants up to `want` at once, each
 * charged immediately — so a caller spending a lease locally can never admit more than the
 * limit allows; a grant of 1 is exactly the classic per-request check.
 *
 * Invariants:
 * - At most `burst` requests are admitted at one instant, and at most `burst + elapsed / T` over
 *   any span of time.
 * - The TAT never makes the bucket "more than full": it is kept within [now, now + burst·T] when
 *   read, so a state left by an older, looser config cannot lock a subject out for longer than
 *   one full refill under the current config.
 * - When the limit changes, the number of outstanding requests (not the wait in ms) carries over:
 *   it then drains at the new rate and is capped at the new burst.
 */

export interface GcraLimit {
  perMinute: number;
  burst: number;
}

/** Persisted state: the TAT and the limit it was computed under (to rescale on config change). */
export interface GcraState {
  tat: number;
  perMinute: number;
  burst: number;
}

/** Float slack so that e.g. perMinute = 7 still admits exactly `burst` at one instant. */
const EPSILON_MS = 1e-6;

function assertLimit(limit: GcraLimit): void {
  const valid = (n: number): boolean => Number.isSafeInteger(n) && n >= 1;
  if (!valid(limit.perMinute) || !valid(limit.burst)) {
    throw new RangeError(`invalid rate limit ${JSON.stringify(limit)}: perMinute and burst must be integers ≥ 1`);
  }
}

function interval(limit: GcraLimit): number {
  return 60_000 / limit.perMinute;
}

/** The TAT under `limit` at `now`, carrying the outstanding request count over from `state`. */
function currentTat(state: GcraState | null, limit: GcraLimit, now: number): number {
  if (state === null || state.tat <= now) return now;
  const sameLimit = state.perMinute === limit.perMinute && state.burst === limit.burst;
  const outstandingMs = sameLimit ? state.tat - now : ((state.tat - now) / interval(state)) * interval(limit);
  return now + Math.min(outstandingMs, limit.burst * interval(limit));
}

function ceilSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000 - EPSILON_MS / 1000));
}

function remainingAt(tat: number, limit: GcraLimit, now: number): number {
  const t = interval(limit);
  return Math.max(0, Math.floor((now + limit.burst * t - tat) / t + EPSILON_MS));
}

/** What a lease of admissions got: how many, and the limit's state right after. */
export interface LeaseResult {
  /** Admissions granted, 0..want; each is already charged (the TAT moved by one interval each). */
  granted: number;
  /** Admissions that would still be granted right now. */
  remaining: number;
  /** Seconds until the bucket is full again (ceil). */
  resetSeconds: number;
  /** Seconds until one more admission is available (ceil, ≥ 1) when fewer than `want` were granted; else 0. */
  retryAfterSeconds: number;
  /** The same wait in milliseconds, unrounded (0 when every admission asked for was granted). */
  retryAfterMs: number;
  /** Requests per minute of this limit. */
  limit: number;
}

/**
 * Gives back `giveBack` unused admissions of an earlier lease (never making the bucket fuller
 * than full), then grants up to `want` admissions at `now`, charging each at once.
 */
export function lease(
  state: GcraState | null,
  limit: GcraLimit,
  now: number,
  want: number,
  giveBack = 0,
): { result: LeaseResult; state: GcraState } {
  assertLimit(limit);
  const t = interval(limit);
  const refunded = Math.max(now, currentTat(state, limit, now) - giveBack * t);
  const granted = Math.min(want, remainingAt(refunded, limit, now));
  const tat = refunded + granted * t;
  const nextAt = tat + t - limit.burst * t;
  return {
    result: {
      granted,
      remaining: remainingAt(tat, limit, now),
      resetSeconds: ceilSeconds(tat - now),
      retryAfterSeconds: granted < want ? Math.max(1, ceilSeconds(nextAt - now)) : 0,
      retryAfterMs: granted < want ? Math.max(1, Math.ceil(nextAt - now)) : 0,
      limit: limit.perMinute,
    },
    state: { tat, perMinute: limit.perMinute, burst: limit.burst },
  };
}

/** What an all-or-nothing charge got (a token-rate limit: a request's tokens fit wholly or not at all). */
export interface ChargeResult {
  allowed: boolean;
  /** Units that could still be charged right now (after this charge). */
  remaining: number;
  /**
   * Milliseconds until `cost` units fit, when refused (≥ 1); 0 when allowed. A cost above the
   * burst never fits: then it is the time until the bucket is full again.
   */
  retryAfterMs: number;
  limit: number;
}

/**
 * Gives back `refund` units an earlier charge did not use (never making the bucket fuller than
 * full), then charges `cost` units at `now` all at once, or none of them: the GCRA over units
 * (tokens) instead of requests, where one request costs many units.
 */
export function charge(
  state: GcraState | null,
  limit: GcraLimit,
  now: number,
  cost: number,
  refund = 0,
): { result: ChargeResult; state: GcraState } {
  assertLimit(limit);
  const t = interval(limit);
  const refunded = Math.max(now, currentTat(state, limit, now) - refund * t);
  const allowed = cost <= remainingAt(refunded, limit, now);
  const tat = allowed ? refunded + cost * t : refunded;
  const fitsAt = cost > limit.burst ? tat : tat + (cost - limit.burst) * t;
  return {
    result: {
      allowed,
      remaining: remainingAt(tat, limit, now),
      retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(fitsAt - now)),
      limit: limit.perMinute,
    },
    state: { tat, perMinute: limit.perMinute, burst: limit.burst },
  };
}
