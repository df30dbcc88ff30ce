/**
 * Test helpers: the chat worker's turn methods called as the gateway calls them, each with a
 * budget of its own (LedgerBudget: exact reservations on the tenant's real QuotaLedger), which a
 * test may pass in to see what the turn reserved and settled.
 */
import { env, exports } from "cloudflare:workers";
import type { ChatTurnInput, OpenAiChatBody, StreamFormat, TenantContext } from "@crispy/contracts";
import { LedgerBudget } from "@crispy/testing";

export function budgetFor(tenant: TenantContext): LedgerBudget {
  return new LedgerBudget(env.RATELIMIT, tenant);
}

/** A grant the chat worker settles itself (through the budget), so the ledger sees every turn. */
function grantOf(budget: LedgerBudget) {
  return { budget, reserved: 0, settledBy: "callee" as const };
}

export function stream(tenant: TenantContext, input: ChatTurnInput, format: StreamFormat, budget = budgetFor(tenant)) {
  return exports.default.stream(tenant, input, format, grantOf(budget));
}

export function complete(tenant: TenantContext, input: ChatTurnInput, budget = budgetFor(tenant)) {
  return exports.default.complete(tenant, input, grantOf(budget));
}

export function completions(tenant: TenantContext, body: OpenAiChatBody, budget = budgetFor(tenant)) {
  return exports.default.completions(tenant, body, grantOf(budget));
}
