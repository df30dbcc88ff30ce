/**
 * A TurnBudget for tests of workers that spend one (chat, tools): an RpcTarget, as the gateway's
 * is, that reserves exactly what it is asked for on the tenant's real QuotaLedger (one lease per
 * turn, through crispy-ratelimit) and charges what the turn settles — so a test sees the same
 * "budget_exceeded" a client would, and can check what a turn reserved and settled.
 */
import { RpcTarget } from "cloudflare:workers";
import type { BudgetLease, LeaseRequest, RpcResult, TenantContext, TurnBudget } from "@crispy/contracts";

export interface LedgerService {
  leaseBudget(tenant: TenantContext, request: LeaseRequest): Promise<RpcResult<BudgetLease>>;
}

export class LedgerBudget extends RpcTarget implements TurnBudget {
  readonly #ratelimit: LedgerService;
  readonly #tenant: TenantContext;
  #leaseId: string | null = null;
  /** Every reservation asked for, in order, and the largest total reserved. */
  readonly requests: number[] = [];
  reserved = 0;
  /** What the turn settled with; null until it settles. */
  settledWith: number | null = null;
  readonly #settled: Promise<void>;
  #resolve!: () => void;

  constructor(ratelimit: LedgerService, tenant: TenantContext) {
    super();
    this.#ratelimit = ratelimit;
    this.#tenant = tenant;
    this.#settled = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Resolves once the turn settled. */
  whenSettled(): Promise<void> {
    return this.#settled;
  }

  async reserve(tokens: number): Promise<RpcResult<{ reserved: number }>> {
    this.requests.push(tokens);
    const size = this.reserved + tokens;
    const result = await this.#ratelimit.leaseBudget(this.#tenant, {
      leaseId: this.#leaseId,
      charge: 0,
      size,
      min: size,
    });
    if (!result.ok) return result;
    this.#leaseId = result.value.leaseId;
    this.reserved = result.value.size;
    return { ok: true, value: { reserved: this.reserved } };
  }

  async settle(usedTokens: number): Promise<void> {
    if (this.settledWith !== null) return;
    this.settledWith = usedTokens;
    if (this.#leaseId !== null) {
      await this.#ratelimit.leaseBudget(this.#tenant, { leaseId: this.#leaseId, charge: usedTokens, size: 0, min: 0 });
    }
    this.#resolve();
  }
}
