/**
 * A tenant's token budget as one gateway isolate sees it: a lease of tokens from the tenant's
 * QuotaLedger, from which chat turns reserve what their next model call may spend, and into which
 * they settle what they used. Usage is reported to the ledger in batches, off the response path.
 * Pure (the ledger is behind `BudgetSource`, time behind `Clock`), so the simulation runs it too.
 *
 * Accounting: the ledger holds `granted` tokens for this lease; of these, `inFlight` are
 * reserved by running turns and `used` were settled but not yet reported. `available` = granted −
 * inFlight − used is what the next reservation may take without a ledger call.
 *
 * Policy:
 * - A reservation that does not fit asks the ledger (one call at a time) to grow the lease to
 *   inFlight + n + prefetch, needing at least inFlight + n; prefetch = the token rate this isolate
 *   sees × PREFETCH_SECONDS, and at least n (room for one more such turn). The ledger caps growth at a quarter of the free headroom, so one
 *   isolate never holds much of a budget idle. Not even the minimum → "budget_exceeded".
 * - `flush` (scheduled after settles, FLUSH_DELAY_MS later) reports the usage and resizes the lease
 *   to inFlight + prefetch — to 0, closing it, once the isolate is idle — so an idle isolate holds
 *   nothing. The ledger charges a lease that stops being renewed in full when its TTL passes, so an
 *   isolate that dies holding tokens can never make the spend exceed the budget.
 *
 * Invariant: every reservation comes out of tokens the ledger holds for this lease, so all
 * isolates together never spend more than the budget, except usage a turn settles above what it
 * reserved (a provider counting more prompt tokens than estimated), which is charged all the same.
 */
import type { BudgetLease, LeaseRequest, RpcError, RpcResult } from "@crispy/contracts";
import type { Clock } from "./rate-lease";

export interface BudgetSource {
  lease(request: LeaseRequest): Promise<RpcResult<BudgetLease>>;
}

export const PREFETCH_SECONDS = 5;
export const FLUSH_DELAY_MS = 1_000;
/** A refusal is remembered this long for reservations no smaller than the refused one. */
const REFUSAL_MEMORY_MS = 1_000;
/** A turn that never settles (its worker crashed) is settled at its whole reservation after this. */
export const TURN_MAX_MS = 15 * 60_000;

export class BudgetPool {
  readonly #source: BudgetSource;
  readonly #clock: Clock;
  #leaseId: string | null = null;
  #granted = 0;
  #inFlight = 0;
  #used = 0;
  /** Open turns: their reservation and when they began. */
  readonly #turns = new Map<number, { tokens: number; since: number }>();
  #nextTurn = 1;
  #pending: Promise<unknown> | null = null;
  /** Tokens of reservations waiting for the call in flight: the next call asks for all of them. */
  #waitingTokens = 0;
  #flushing: Promise<void> | null = null;
  #flushAgain = false;
  #refusal: { at: number; need: number; error: RpcError } | null = null;
  #tokensSinceRate = 0;
  #rateSince: number;
  #rate = 0;
  #lastReserveAt = 0;
  /** Ledger calls made, and the largest reservation one turn held (for tests and the simulation). */
  calls = 0;
  largestTurn = 0;

  constructor(source: BudgetSource, clock: Clock = Date) {
    this.#source = source;
    this.#clock = clock;
    this.#rateSince = clock.now();
  }

  get available(): number {
    return this.#granted - this.#inFlight - this.#used;
  }

  /** A new turn's handle for `reserve` and `settle`. */
  openTurn(): number {
    this.#sweep();
    const turn = this.#nextTurn++;
    this.#turns.set(turn, { tokens: 0, since: this.#clock.now() });
    return turn;
  }

  /** Reserves `tokens` more for `turn`; `onCall` sees a ledger call this reservation starts. */
  async reserve(turn: number, tokens: number, onCall?: (call: Promise<unknown>) => void): Promise<RpcResult<void>> {
    const open = this.#turns.get(turn);
    if (!open) return { ok: false, error: { code: "conflict", message: "this turn's budget was already settled" } };
    this.#lastReserveAt = this.#clock.now();
    this.#tokensSinceRate += tokens;
    let alone = false;
    for (;;) {
      // While a ledger call is out (it may be shrinking the lease), nothing is taken from it.
      if (this.#pending) {
        this.#waitingTokens += tokens;
        try {
          await this.#pending.catch(() => undefined);
        } finally {
          this.#waitingTokens -= tokens;
        }
        continue;
      }
      if (this.#leaseId !== null && this.available >= tokens) {
        this.#inFlight += tokens;
        open.tokens += tokens;
        return { ok: true, value: undefined };
      }
      const now = this.#clock.now();
      const refusal = this.#refusal;
      if (refusal && now - refusal.at < REFUSAL_MEMORY_MS && this.#inFlight + tokens >= refusal.need) {
        return { ok: false, error: refusal.error };
      }
      // Grow for this reservation and every one queued behind it, in one call; if they do not all
      // fit, try once more for this one alone. A granted call reserves this one's tokens before
      // anyone else looks. (No await between the checks above and the call: nothing can come between.)
      const own = this.#inFlight + tokens;
      const want = alone ? own : own + this.#waitingTokens;
      const call = this.#call(want + (alone ? 0 : this.#prefetch(tokens)), want, () => {
        this.#inFlight += tokens;
        open.tokens += tokens;
      });
      onCall?.(call);
      const result = await call;
      if (result.ok) return { ok: true, value: undefined };
      if (result.error.code === "budget_exceeded") {
        if (!alone && want > own) {
          alone = true;
          continue;
        }
        this.#refusal = { at: this.#clock.now(), need: own, error: result.error };
        return { ok: false, error: result.error };
      }
      if (result.error.code !== "not_found") return { ok: false, error: result.error };
    }
  }

  /** Ends `turn`: `used` tokens are charged (at the next flush), the rest of its reservation freed. */
  settle(turn: number, used: number): void {
    const open = this.#turns.get(turn);
    if (!open) return;
    this.#turns.delete(turn);
    this.largestTurn = Math.max(this.largestTurn, open.tokens);
    this.#inFlight -= open.tokens;
    this.#used += used;
  }

  /**
   * Gives back `tokens` of what `turn` reserved, at once (a reservation that another budget of the
   * same turn refused: the turn's reservation must fit every budget it spends, or none holds it).
   */
  release(turn: number, tokens: number): void {
    const open = this.#turns.get(turn);
    if (!open) return;
    const freed = Math.min(tokens, open.tokens);
    open.tokens -= freed;
    this.#inFlight -= freed;
  }

  /** Tokens reserved by `turn` so far (0 once settled). */
  reservedBy(turn: number): number {
    return this.#turns.get(turn)?.tokens ?? 0;
  }

  /** Settles turns older than TURN_MAX_MS at their whole reservation: their worker never will. */
  #sweep(): void {
    const before = this.#clock.now() - TURN_MAX_MS;
    for (const [turn, open] of this.#turns) if (open.since < before) this.settle(turn, open.tokens);
  }

  /**
   * Reports usage and resizes the lease after FLUSH_DELAY_MS (one flush at a time; callers share
   * it, and a settle during a flush gets one more after it): to 0 once no turn is running and none
   * reserved meanwhile, else to inFlight + prefetch.
   */
  scheduleFlush(sleep: (ms: number) => Promise<void>): Promise<void> {
    if (this.#flushing) {
      this.#flushAgain = true;
      return this.#flushing;
    }
    const run = async () => {
      do {
        this.#flushAgain = false;
        await sleep(FLUSH_DELAY_MS);
        await this.flush();
      } while (this.#flushAgain);
    };
    this.#flushing = run().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  /** Reports usage now and resizes the lease (see scheduleFlush). */
  async flush(): Promise<void> {
    this.#sweep();
    while (this.#pending) await this.#pending.catch(() => undefined);
    if (this.#leaseId === null) return;
    const idle = this.#inFlight === 0 && this.#clock.now() - this.#lastReserveAt >= FLUSH_DELAY_MS;
    const size = idle ? 0 : this.#inFlight + this.#prefetch(0);
    await this.#call(size, Math.min(size, this.#inFlight));
  }

  /** One ledger call: charge what was used, resize toward `size` (at least `min`). */
  async #call(size: number, min: number, claim?: () => void): Promise<RpcResult<BudgetLease>> {
    const charge = this.#used;
    const request: LeaseRequest = { leaseId: this.#leaseId, charge, size: Math.max(size, min), min };
    this.calls += 1;
    const pending = this.#source.lease(request);
    this.#pending = pending;
    try {
      const result = await pending;
      if (result.ok) {
        this.#used -= charge;
        this.#leaseId = result.value.leaseId;
        this.#granted = result.value.size;
        this.#refusal = null;
        claim?.();
      } else if (result.error.code === "budget_exceeded") {
        this.#used -= charge;
        const { leaseId, size: kept } = result.error.details ?? {};
        this.#leaseId = typeof leaseId === "string" ? leaseId : null;
        this.#granted = typeof kept === "number" ? kept : 0;
      } else if (result.error.code === "not_found") {
        // The lease expired and was charged in full, which covers what was still unreported.
        this.#leaseId = null;
        this.#granted = 0;
        this.#used = Math.max(0, this.#used - charge);
      }
      return result;
    } finally {
      if (this.#pending === pending) this.#pending = null;
    }
  }

  /** Tokens to ask for beyond the current need: the recent token rate × PREFETCH_SECONDS, and at least `next` more. */
  #prefetch(next: number): number {
    const now = this.#clock.now();
    const elapsed = now - this.#rateSince;
    if (elapsed >= 200) {
      const sample = (this.#tokensSinceRate * 1000) / elapsed;
      this.#rate = this.#rate === 0 ? sample : (this.#rate + sample) / 2;
      this.#tokensSinceRate = 0;
      this.#rateSince = now;
    }
    return Math.max(next, Math.ceil(this.#rate * PREFETCH_SECONDS));
  }
}
