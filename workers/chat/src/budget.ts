/**
 * A turn's tokens against the tenant's budget, through the TurnGrant the gateway passed in: its
 * TurnBudget (an RPC stub of the gateway's own object, which spends the gateway isolate's lease of
 * the budget), what the gateway reserved on it already, and who settles. A turn reserves what its
 * next model call may spend before it is made — re-estimated once it knows the prompt it will
 * actually send (after waiting in the session's queue, after retrieval) — then settles once.
 *
 * Invariants:
 * - A model call is made only with its prompt and its maximum completion reserved (`ensure`).
 * - The budget is settled exactly once (settle, or release = settle 0); later calls do nothing.
 *   A caller-settled turn only records what it used (`used`), which the RPC result carries back.
 * - Settling never throws: if the gateway cannot be reached, its pool settles the turn at its whole
 *   reservation after a while (conservative by design), and a warning is logged here.
 */
import type { RpcResult, TenantContext, TurnBudget, TurnGrant } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage } from "@crispy/worker-kit";

/** A TurnBudget as received over RPC: a stub that may be duplicated and disposed. */
export type BudgetStub = TurnBudget & { dup?(): BudgetStub; [Symbol.dispose]?(): void };

/** A TurnGrant whose budget stub is kept usable past the call that brought it. */
export type KeptGrant = Omit<TurnGrant, "budget"> & { budget: BudgetStub };

/** What is wrong with a grant (from a caller with a bug), or null. */
export function grantProblem(grant: unknown): string | null {
  const { budget, reserved, settledBy } = (grant ?? {}) as Partial<TurnGrant>;
  if (typeof budget?.reserve !== "function" || typeof budget.settle !== "function") {
    return "a turn needs the gateway's grant: { budget: TurnBudget, reserved, settledBy }";
  }
  if (!Number.isSafeInteger(reserved) || (reserved as number) < 0) return "grant.reserved must be a whole number ≥ 0";
  if (settledBy !== "caller" && settledBy !== "callee") return 'grant.settledBy must be "caller" or "callee"';
  return null;
}

/**
 * A grant received as an RPC argument, its stub duplicated so it outlives the call that brought it
 * (each hop that hands it on past its own return keeps it: the chat entrypoint for the session
 * object, the object or completion for its turn).
 */
export function keep(grant: TurnGrant): KeptGrant {
  const stub = grant.budget as BudgetStub;
  return { ...grant, budget: stub.dup?.() ?? stub };
}

export class TurnTokens {
  readonly #grant: KeptGrant;
  readonly #tenant: TenantContext;
  #reserved: number;
  #closed = false;
  /** What the turn used, once settled (what a caller-settled turn reports back). */
  used = 0;

  private constructor(grant: TurnGrant, tenant: TenantContext) {
    this.#grant = keep(grant);
    this.#tenant = tenant;
    this.#reserved = grant.reserved;
  }

  /**
   * Takes the grant (keeping its stub usable past the call that brought it) and reserves `tokens`
   * in all on it; "budget_exceeded" (details: resetsAt, remaining, window) fails.
   */
  static async open(grant: TurnGrant, tenant: TenantContext, tokens: number): Promise<RpcResult<TurnTokens>> {
    const turn = new TurnTokens(grant, tenant);
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
    const result = await this.#grant.budget.reserve(more);
    if (!result.ok) return result;
    this.#reserved = result.value.reserved;
    return { ok: true, value: undefined };
  }

  /** Charges `actualTokens` and ends the turn's budget (a caller-settled turn only records them). */
  async settle(actualTokens: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.used = Math.ceil(actualTokens);
    if (this.#grant.settledBy === "caller") return;
    try {
      await this.#grant.budget.settle(this.used);
    } catch (error) {
      log("warn", "chat.budget_not_settled", {
        tenantId: this.#tenant.tenantId,
        requestId: this.#tenant.requestId,
        reserved: this.#reserved,
        reason: errorMessage(error),
      });
    } finally {
      this.#grant.budget[Symbol.dispose]?.();
    }
  }

  /** Ends the turn's budget without charging (no model ran). */
  async release(): Promise<void> {
    await this.settle(0);
  }
}
