/**
 * A request-rate limit as one gateway isolate sees it: admissions leased from the limit's
 * RateLimiter object and spent locally, so most requests make no Durable Object call. Pure (the
 * object is behind `RateSource`, time behind `Clock`), so the admission simulation
 * (infra/sim) runs this very code.
 *
 * Policy:
 * - A lease is good for `ttlMs` (1 s). Admissions still unused then are handed back on the next
 *   lease call for this limiter (no extra call); an isolate that goes away simply never uses them.
 * - Lease size adapts to the rate this isolate sees: want = clamp(max(waiting takers, rate × ttl),
 *   1, maxLease), maxLease = max(1, ⌊burst / 10⌋), so one isolate never holds more than a tenth of
 *   the burst idle and other isolates are refused at most that much too early.
 * - One lease call at a time per limiter: takers that find no local admission wait for it; those
 *   it cannot serve start the next one, until the object grants nothing, which refuses them all.
 * - A refusal is remembered for min(retry-after, ttl), so a storm of refused requests does not
 *   become a storm of object calls.
 *
 * Invariant: every admission was charged in the object when leased, so all isolates together
 * never admit more than the limit (over any window, at most burst + rate × (window + ttl)).
 */
import type { RateLease } from "@crispy/contracts";

export interface RateSource {
  /** Gives back `giveBack` unused admissions, then leases up to `want`; throws when the limiter is unreachable. */
  lease(want: number, giveBack: number): Promise<RateLease>;
}

export interface Clock {
  now(): number;
}

export interface LeasePolicy {
  ttlMs: number;
  maxLease: number;
}

export const LEASE_TTL_MS = 1_000;

/** The lease policy for a limit with `burst`. */
export function leasePolicyFor(burst: number): LeasePolicy {
  return { ttlMs: LEASE_TTL_MS, maxLease: Math.max(1, Math.floor(burst / 10)) };
}

/** One request's view of one limit. */
export interface RateTake {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds: number;
}

export class LeasedLimiter {
  readonly #source: RateSource;
  readonly #policy: LeasePolicy;
  readonly #clock: Clock;
  #tokens = 0;
  #expiresAt = 0;
  #last: RateLease | null = null;
  #refusedUntil = 0;
  #pending: Promise<RateLease> | null = null;
  #waiting = 0;
  #takes = 0;
  #rate = 0;
  #rateSince: number;
  /** Lease calls made (for tests and the simulation). */
  calls = 0;

  constructor(source: RateSource, policy: LeasePolicy, clock: Clock = Date) {
    this.#source = source;
    this.#policy = policy;
    this.#clock = clock;
    this.#rateSince = clock.now();
  }

  /** Admits one request if the limit allows it; `onLease` sees a lease call this take starts. */
  async take(onLease?: (call: Promise<unknown>) => void): Promise<RateTake> {
    this.#takes += 1;
    for (;;) {
      const now = this.#clock.now();
      if (this.#tokens > 0 && now < this.#expiresAt) {
        this.#tokens -= 1;
        return this.#view(true, now);
      }
      if (now < this.#refusedUntil) return this.#view(false, now);
      let grant: RateLease;
      if (this.#pending) {
        this.#waiting += 1;
        try {
          grant = await this.#pending;
        } finally {
          this.#waiting -= 1;
        }
      } else {
        const call = this.#lease(now);
        onLease?.(call);
        grant = await call;
      }
      if (grant.granted === 0) return this.#view(false, this.#clock.now());
    }
  }

  /** Returns an admission `take` gave but the request did not use (the other limit refused it). */
  putBack(): void {
    // Usable again while the lease lasts; handed back to the object with the rest after it.
    this.#tokens += 1;
  }

  #lease(now: number): Promise<RateLease> {
    const giveBack = now >= this.#expiresAt ? this.#tokens : 0;
    this.#tokens -= giveBack;
    const elapsed = Math.max(now - this.#rateSince, 50);
    const sample = (this.#takes * 1000) / elapsed;
    this.#rate = this.#rate === 0 ? sample : (this.#rate + sample) / 2;
    this.#takes = 0;
    this.#rateSince = now;
    const byRate = Math.ceil((this.#rate * this.#policy.ttlMs) / 1000);
    const want = Math.min(Math.max(this.#waiting + 1, byRate, 1), this.#policy.maxLease);
    this.calls += 1;
    const pending = this.#source.lease(want, giveBack).then((grant) => {
      const at = this.#clock.now();
      this.#tokens += grant.granted;
      this.#expiresAt = at + this.#policy.ttlMs;
      this.#last = grant;
      if (grant.granted === 0) this.#refusedUntil = at + Math.min(grant.retryAfterSeconds * 1000, this.#policy.ttlMs);
      return grant;
    });
    this.#pending = pending;
    const clear = () => {
      if (this.#pending === pending) this.#pending = null;
    };
    pending.then(clear, clear);
    return pending;
  }

  #view(allowed: boolean, now: number): RateTake {
    const last = this.#last;
    const limit = last?.limit ?? 0;
    if (allowed) {
      return {
        allowed,
        limit,
        remaining: this.#tokens + (last?.remaining ?? 0),
        resetSeconds: last?.resetSeconds ?? 0,
        retryAfterSeconds: 0,
      };
    }
    const wait = Math.max(1, Math.ceil((this.#refusedUntil - now) / 1000), last?.retryAfterSeconds ?? 1);
    return { allowed, limit, remaining: 0, resetSeconds: last?.resetSeconds ?? 0, retryAfterSeconds: wait };
  }
}
