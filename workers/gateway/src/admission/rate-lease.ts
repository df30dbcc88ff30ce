/**
 * A request-rate limit as one gateway isolate sees it: admissions leased from the limit's
 * RateLimiter object and spent locally, so most requests make no Durable Object call. Pure (the
 * object is behind `RateSource`, time behind `Clock`), so the admission simulation (infra/sim)
 * runs this very code.
 *
 * Policy:
 * - Each lease's admissions are good for `ttlMs` (1 s) after it arrives. Admissions still unused
 *   then are handed back with the next lease call for this limiter (no extra call); an isolate that
 *   goes away simply never uses them.
 * - Lease size adapts to the rate this isolate sees: want = clamp(max(waiting takers, rate × ttl),
 *   1, maxLease), maxLease = max(1, ⌊burst / 10⌋), so one isolate never holds more than a tenth of
 *   the burst idle and other isolates are refused at most that much too early. The rate estimate
 *   rises at once to a higher sample and halves its way down, so a burst of traffic is served by
 *   right-sized leases within a lease or two.
 * - The next lease is asked for in the background once a lease is three quarters spent, so a
 *   steady flow rarely waits for the object.
 * - One lease call at a time per limiter. A request that finds no local admission waits for the
 *   call in flight; if that call came back short of what it asked for (the object is at its
 *   limit), the requests it could not serve are refused — never queued for another round.
 * - A refusal is remembered until the object said the next admission comes (at most ttl), so a
 *   storm of refused requests does not become a storm of object calls.
 *
 * Invariant: every admission was charged in the object when leased, and is used within ttl of
 * arriving, so all isolates together never admit more than the limit (over any window, at most
 * burst + rate × (window + ttl)).
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

/** Admissions of one lease, usable until `expiresAt`. */
interface Grant {
  tokens: number;
  expiresAt: number;
}

export class LeasedLimiter {
  readonly #source: RateSource;
  readonly #policy: LeasePolicy;
  readonly #clock: Clock;
  /** Leases not yet spent, oldest first. */
  #grants: Grant[] = [];
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
      if (this.#spend(now)) {
        if (!this.#pending && this.#runningLow(now)) onLease?.(this.#lease(now).catch(() => undefined));
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
      // A lease that came back short means the object is at its limit: what it could not serve is refused.
      if (grant.retryAfterMs > 0) {
        const at = this.#clock.now();
        return this.#view(this.#spend(at), at);
      }
    }
  }

  /** Returns an admission `take` gave but the request did not use (the other limit refused it). */
  putBack(): void {
    // Usable again while its lease lasts; handed back to the object with the rest after that.
    const newest = this.#grants.at(-1);
    if (newest) newest.tokens += 1;
    else this.#grants.push({ tokens: 1, expiresAt: 0 });
  }

  /** Takes one admission from the oldest unexpired lease; false when there is none. */
  #spend(now: number): boolean {
    for (const grant of this.#grants) {
      if (grant.expiresAt > now && grant.tokens > 0) {
        grant.tokens -= 1;
        return true;
      }
    }
    return false;
  }

  /** Whether the leases in hand are three quarters spent (time to ask for the next one). */
  #runningLow(now: number): boolean {
    const last = this.#last;
    if (!last || last.granted < 4 || last.retryAfterMs > 0) return false;
    let left = 0;
    for (const grant of this.#grants) if (grant.expiresAt > now) left += grant.tokens;
    return left < last.granted / 4;
  }

  #lease(now: number): Promise<RateLease> {
    let giveBack = 0;
    this.#grants = this.#grants.filter((grant) => {
      if (grant.expiresAt > now) return grant.tokens > 0;
      giveBack += grant.tokens;
      return false;
    });
    const elapsed = Math.max(now - this.#rateSince, 50);
    const sample = (this.#takes * 1000) / elapsed;
    this.#rate = sample >= this.#rate ? sample : (this.#rate + sample) / 2;
    this.#takes = 0;
    this.#rateSince = now;
    const byRate = Math.ceil((this.#rate * this.#policy.ttlMs) / 1000);
    const want = Math.min(Math.max(this.#waiting + 1, byRate, 1), this.#policy.maxLease);
    this.calls += 1;
    const pending = this.#source.lease(want, giveBack).then((grant) => {
      const at = this.#clock.now();
      if (grant.granted > 0) this.#grants.push({ tokens: grant.granted, expiresAt: at + this.#policy.ttlMs });
      this.#last = grant;
      if (grant.granted < want) this.#refusedUntil = at + Math.min(grant.retryAfterMs, this.#policy.ttlMs);
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
      let held = 0;
      for (const grant of this.#grants) if (grant.expiresAt > now) held += grant.tokens;
      return {
        allowed,
        limit,
        remaining: held + (last?.remaining ?? 0),
        resetSeconds: last?.resetSeconds ?? 0,
        retryAfterSeconds: 0,
      };
    }
    const wait = Math.max(1, Math.ceil((this.#refusedUntil - now) / 1000));
    return { allowed, limit, remaining: 0, resetSeconds: last?.resetSeconds ?? 0, retryAfterSeconds: wait };
  }
}
