/**
 * A turn's tokens against the tenant's budget, through the TurnBudget the gateway passed in (an
 * RPC stub of the gateway's own object, which spends the gateway isolate's lease of the budget):
 * reserve what the next model call may spend before it is made — re-estimated once the turn knows
 * the prompt it will actually send (after waiting in the session's queue, after retrieval) — then
 * settle once with what was used.
 *
 * Invariants:
 * - A model call is made only with its prompt and its maximum completion reserved (`ensure`).
 * - The budget is settled exactly once (settle, or release = settle 0); later calls do nothing.
 * - Settling never throws: if the gateway cannot be reached, its pool settles the turn at its whole
 *   reservation after a while (conservative by design), and a warning is logged here.
 */
import type { RpcResult, TenantContext, TurnBudget } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage } from "@crispy/worker-kit";

/** A TurnBudget as received over RPC: a stub that may be duplicated and disposed. */
export type BudgetStub = TurnBudget & { dup?(): BudgetStub; [Symbol.dispose]?(): void };

export class TurnTokens {
  readonly #budget: BudgetStub;
  readonly #tenant: TenantContext;
  #reserved = 0;
  #closed = false;

  private constructor(budget: BudgetStub, tenant: TenantContext) {
    this.#budget = budget;
    this.#tenant = tenant;
  }

  /**
   * Keeps a budget received as an RPC argument usable after the call that brought it returns,
   * and reserves `tokens` on it; "budget_exceeded" (details: resetsAt, remaining, window) fails.
   */
  static async open(budget: BudgetStub, tenant: TenantContext, tokens: number): Promise<RpcResult<TurnTokens>> {
    if (typeof budget?.reserve !== "function" || typeof budget.settle !== "function") {
      return { ok: false, error: { code: "bad_request", message: "a turn needs the gateway's budget (a TurnBudget)" } };
    }
    const turn = new TurnTokens(budget.dup?.() ?? budget, tenant);
    const reserved = await turn.ensure(tokens);
    if (!reserved.ok) {
      await turn.release();
      return reserved;
    }
    return { ok: true, value: turn };
  }

  /** Tokens reserved so far. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Makes sure at least `tokens` are reserved in all, reserving the difference. */
  async ensure(tokens: number): Promise<RpcResult<void>> {
    const more = Math.ceil(tokens) - this.#reserved;
    if (more <= 0) return { ok: true, value: undefined };
    const result = await this.#budget.reserve(more);
    if (!result.ok) return result;
    this.#reserved = result.value.reserved;
    return { ok: true, value: undefined };
  }

  /** Charges `actualTokens` and ends the turn's budget. */
  async settle(actualTokens: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#budget.settle(Math.ceil(actualTokens));
    } catch (error) {
      log("warn", "chat.budget_not_settled", {
        tenantId: this.#tenant.tenantId,
        requestId: this.#tenant.requestId,
        reserved: this.#reserved,
        reason: errorMessage(error),
      });
    } finally {
      this.#budget[Symbol.dispose]?.();
    }
  }

  /** Ends the turn's budget without charging (no model ran). */
  async release(): Promise<void> {
    await this.settle(0);
  }
}
