/**
 * The budget of one chat turn, handed to the chat worker as an RpcTarget: its calls run here, in
 * the gateway isolate that admitted the request, against the tenant's BudgetPool — so reserving
 * for a queued turn's real prompt, a RAG turn's passages or a tool result costs a local RPC, not a
 * Durable Object call. Settling schedules the pool's batched report (`ctx.waitUntil`), off the
 * response path. A turn the chat worker never settles is settled by the pool at its whole
 * reservation (TURN_MAX_MS), never forgotten.
 */
import { RpcTarget } from "cloudflare:workers";
import { fail, ok, type RpcResult, type TurnBudget } from "@crispy/contracts";
import type { BudgetPool } from "./budget-pool";

/** The most one reservation may ask for (a turn's context plus its completion is far below). */
const MAX_RESERVATION = 10_000_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GatewayTurnBudget extends RpcTarget implements TurnBudget {
  readonly #pool: BudgetPool;
  readonly #ctx: ExecutionContext;
  readonly #turn: number;
  #settled = false;

  constructor(pool: BudgetPool, ctx: ExecutionContext) {
    super();
    this.#pool = pool;
    this.#ctx = ctx;
    this.#turn = pool.openTurn();
  }

  /** Reserves `tokens` more for this turn; the total reserved so far, or "budget_exceeded". */
  async reserve(tokens: number): Promise<RpcResult<{ reserved: number }>> {
    if (!Number.isSafeInteger(tokens) || tokens < 0 || tokens > MAX_RESERVATION) {
      return fail("bad_request", `tokens must be an integer from 0 to ${MAX_RESERVATION}`);
    }
    const reserved = await this.#pool.reserve(this.#turn, tokens, (call) => this.#ctx.waitUntil(call));
    return reserved.ok ? ok({ reserved: this.#pool.reservedBy(this.#turn) }) : reserved;
  }

  /**
   * After the chat worker answered: a turn it did not settle (it failed before reserving, or
   * crashed) is settled here at what it reserved — nothing is lost, nothing is left open.
   */
  closeIfOpen(): void {
    if (!this.#settled) void this.settle(this.#pool.reservedBy(this.#turn));
  }

  /** Charges `usedTokens`, frees the rest, and schedules the batched report. Only the first call counts. */
  async settle(usedTokens: number): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    const used = Number.isSafeInteger(usedTokens) && usedTokens >= 0 ? usedTokens : this.#pool.reservedBy(this.#turn);
    this.#pool.settle(this.#turn, used);
    this.#ctx.waitUntil(this.#pool.scheduleFlush(sleep));
  }
}
