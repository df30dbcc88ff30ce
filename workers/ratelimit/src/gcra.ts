/**
 * GCRA (generic cell rate algorithm) with burst — pure, no I/O, unit-tested on its own.
 *
 * State is one number, the theoretical arrival time (TAT, epoch ms): the time at which the bucket
 * would be full again. Emission interval T = 60000 / perMinute ms; a request at `now` is admitted
 * when `max(TAT, now) + T - burst·T <= now`, i.e. while fewer than `burst` requests are
 * outstanding, and each admission pushes the TAT forward by T.
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

export interface GcraResult {
  allowed: boolean;
  /** Requests that would still be admitted right now. */
  remaining: number;
  /** Seconds until the bucket is full again (ceil). */
  resetSeconds: number;
  /** Seconds until one more request would be admitted (ceil, ≥ 1) if refused; 0 if allowed. */
  retryAfterSeconds: number;
  /** Requests per minute of this limit. */
  limit: number;
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

/** Tries to admit one request at `now`; returns the decision and the state to persist. */
export function take(state: GcraState | null, limit: GcraLimit, now: number): { result: GcraResult; state: GcraState } {
  assertLimit(limit);
  const t = interval(limit);
  const tat = currentTat(state, limit, now);
  const newTat = tat + t;
  const allowAt = newTat - limit.burst * t;
  if (allowAt - now > EPSILON_MS) {
    return {
      result: {
        allowed: false,
        remaining: 0,
        resetSeconds: ceilSeconds(tat - now),
        retryAfterSeconds: Math.max(1, ceilSeconds(allowAt - now)),
        limit: limit.perMinute,
      },
      state: { tat, perMinute: limit.perMinute, burst: limit.burst },
    };
  }
  return {
    result: {
      allowed: true,
      remaining: remainingAt(newTat, limit, now),
      resetSeconds: ceilSeconds(newTat - now),
      retryAfterSeconds: 0,
      limit: limit.perMinute,
    },
    state: { tat: newTat, perMinute: limit.perMinute, burst: limit.burst },
  };
}

/** Undoes one admission at `now` (never making the bucket fuller than full). */
export function refund(state: GcraState | null, limit: GcraLimit, now: number): GcraState {
  assertLimit(limit);
  const tat = currentTat(state, limit, now);
  return {
    tat: Math.max(now, tat - interval(limit)),
    perMinute: limit.perMinute,
    burst: limit.burst,
  };
}
