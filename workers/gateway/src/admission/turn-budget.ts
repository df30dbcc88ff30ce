/**
 * The budget of one chat turn, handed to the chat worker as an RpcTarget: its calls run here, in
 * the gateway isolate that admitted the request, against the tenant's BudgetPool — and, for a key
 * with budgets of its own, the key's BudgetPool too, and its token-rate limit — so reserving for a
 * queued turn's real prompt, a RAG turn's passages or a tool result costs a local RPC, not a
 * Durable Object call. Settling schedules the pools' batched reports (`ctx.waitUntil`), off the
 * response path. A turn the chat worker never settles is settled by the pools at its whole
 * reservation (TURN_MAX_MS), never forgotten.
 *
 * Invariant: every budget of the turn holds the same reservation. A reservation is made on all of
 * them at once; if one refuses, what the others granted is released at once and the refusal (the
 * tenant's first, then the key's budget, then its token rate) is the answer.
 */
import { RpcTarget } from "cloudflare:workers";
import { fail, ok, type RpcError, type RpcResult, type TurnBudget } from "@crispy/contracts";
import type { BudgetPool } from "./budget-pool";
import type { KeyTokenRate } from "./token-rate";

/** The most one reservation may ask for (a turn's context plus its completion is far below). */
const MAX_RESERVATION = 10_000_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One budget a turn spends: a pool, and how its refusal is told (the key's names the key). */
export interface BudgetPart {
  pool: BudgetPool;
  refusal?: (error: RpcError) => RpcError;
}

export class GatewayTurnBudget extends RpcTarget implements TurnBudget {
  readonly #parts: Array<BudgetPart & { turn: number }>;
  readonly #rate: KeyTokenRate | null;
  readonly #ctx: ExecutionContext;
  /** Tokens charged to the token-rate limit for this turn (refunded down to what it used). */
  #rated = 0;
  #settled = false;

  /** A turn on the tenant's pool, and on `more` budgets (the key's) and its token rate when given. */
  constructor(pool: BudgetPool, ctx: ExecutionContext, more: BudgetPart[] = [], rate: KeyTokenRate | null = null) {
    super();
    this.#parts = [{ pool }, ...more].map((part) => ({ ...part, turn: part.pool.openTurn() }));
    this.#rate = rate;
    this.#ctx = ctx;
  }

  /** Reserves `tokens` more for this turn; the total reserved so far, or "budget_exceeded" (or "rate_limited": a key's token rate). */
  async reserve(tokens: number): Promise<RpcResult<{ reserved: number }>> {
    if (!Number.isSafeInteger(tokens) || tokens < 0 || tokens > MAX_RESERVATION) {
      return fail("bad_request", `tokens must be an integer from 0 to ${MAX_RESERVATION}`);
    }
    const onCall = (call: Promise<unknown>) => this.#ctx.waitUntil(call);
    const [pooled, rated] = await Promise.all([
      Promise.all(this.#parts.map((part) => part.pool.reserve(part.turn, tokens, onCall))),
      this.#rate ? this.#rate.take(tokens) : Promise.resolve(ok(undefined)),
    ]);
    const refused = pooled.findIndex((result) => !result.ok);
    if (refused === -1 && rated.ok) {
      this.#rated += this.#rate ? tokens : 0;
      const first = this.#parts[0]!;
      return ok({ reserved: first.pool.reservedBy(first.turn) });
    }
    pooled.forEach((result, index) => {
      const part = this.#parts[index]!;
      if (result.ok) part.pool.release(part.turn, tokens);
    });
    if (rated.ok && this.#rate) this.#ctx.waitUntil(this.#rate.refund(tokens));
    if (refused === -1) return rated as RpcResult<never>;
    const failure = pooled[refused] as { ok: false; error: RpcError };
    const part = this.#parts[refused]!;
    return { ok: false, error: part.refusal ? part.refusal(failure.error) : failure.error };
  }

  /**
   * After the chat worker answered: a turn it did not settle (it failed before reserving, or
   * crashed) is settled here at what it reserved — nothing is lost, nothing is left open.
   */
  closeIfOpen(): void {
    if (!this.#settled) void this.settle(this.#reserved());
  }

  /** Charges `usedTokens` to every budget, frees the rest, and schedules the batched reports. Only the first call counts. */
  async settle(usedTokens: number): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    const used = Number.isSafeInteger(usedTokens) && usedTokens >= 0 ? usedTokens : this.#reserved();
    for (const part of this.#parts) {
      part.pool.settle(part.turn, used);
      this.#ctx.waitUntil(part.pool.scheduleFlush(sleep));
    }
    if (this.#rate && this.#rated > used) this.#ctx.waitUntil(this.#rate.refund(this.#rated - used));
  }

  #reserved(): number {
    const first = this.#parts[0]!;
    return first.pool.reservedBy(first.turn);
  }
}
