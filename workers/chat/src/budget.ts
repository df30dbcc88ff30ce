/**
 * A turn's token reservation against the tenant's budgets, held through crispy-ratelimit: reserve
 * the estimate (prompt + maximum completion) before the model is called, then settle what was
 * actually used, or release when nothing ran.
 *
 * Invariants:
 * - A reservation is closed at most once (settle or release); later calls do nothing.
 * - Closing never throws: if the ratelimit worker cannot be reached, the reservation stays open
 *   and crispy-ratelimit charges it at its estimate when it expires (conservative by design).
 */
import type { Reservation, RpcResult, TenantContext } from "@crispy/contracts";
import { log } from "@crispy/observability";

type Ratelimit = ChatEnv["RATELIMIT"];

export class TokenReservation {
  readonly #ratelimit: Ratelimit;
  readonly #tenant: TenantContext;
  readonly #reservation: Reservation;
  #closed = false;

  private constructor(ratelimit: Ratelimit, tenant: TenantContext, reservation: Reservation) {
    this.#ratelimit = ratelimit;
    this.#tenant = tenant;
    this.#reservation = reservation;
  }

  /** Reserves `tokens`; fails with "budget_exceeded" (details: resetsAt, remaining, window). */
  static async open(ratelimit: Ratelimit, tenant: TenantContext, tokens: number): Promise<RpcResult<TokenReservation>> {
    const result = (await ratelimit.reserve(tenant, Math.ceil(tokens))) as RpcResult<Reservation>;
    if (!result.ok) return result;
    return { ok: true, value: new TokenReservation(ratelimit, tenant, result.value) };
  }

  /** The estimate that was reserved. */
  get tokens(): number {
    return this.#reservation.tokens;
  }

  /** Charges `actualTokens` and closes the reservation. */
  async settle(actualTokens: number): Promise<void> {
    await this.#close("settle", () =>
      this.#ratelimit.settle(this.#tenant, this.#reservation.reservationId, Math.ceil(actualTokens)),
    );
  }

  /** Closes the reservation without charging (nothing ran). */
  async release(): Promise<void> {
    await this.#close("release", () => this.#ratelimit.release(this.#tenant, this.#reservation.reservationId));
  }

  async #close(action: string, call: () => Promise<{ ok: boolean }>): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      const result = (await call()) as RpcResult<unknown>;
      if (!result.ok) this.#warn(action, result.error.message);
    } catch (error) {
      this.#warn(action, error instanceof Error ? error.message : String(error));
    }
  }

  #warn(action: string, reason: string): void {
    log("warn", "chat.reservation_not_closed", {
      tenantId: this.#tenant.tenantId,
      requestId: this.#tenant.requestId,
      action,
      reservationId: this.#reservation.reservationId,
      reason,
    });
  }
}
