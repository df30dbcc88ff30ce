/** Contracts of the ratelimit worker's RPC surface, and of the budget a chat turn spends. */
import type { KeyLimits } from "./api";
import type { RpcResult } from "./errors";
import type { RateLimitConfig, TenantConfig } from "./tenant-config";

/** Who a request-rate limit applies to: an API key, or a client IP for unauthenticated routes. */
export type RateLimitSubject = { kind: "key"; id: string } | { kind: "ip"; id: string };

/** One of a tenant's request-rate limits: a subject's own (`perKey`), or the tenant-wide one. */
export type RateLimiterRef = { scope: "subject"; subject: RateLimitSubject } | { scope: "tenant" };

/** Admissions leased from one limiter; every granted one is already charged there. */
export interface RateLease {
  granted: number;
  /** Requests per minute of the limit. */
  limit: number;
  /** Admissions still available at the limiter right after this grant. */
  remaining: number;
  /** Seconds until the limiter is fully replenished. */
  resetSeconds: number;
  /** Seconds until one more admission is available, when fewer than asked were granted; else 0. */
  retryAfterSeconds: number;
  /** The same wait in milliseconds, unrounded. */
  retryAfterMs: number;
}

/** The gateway's answer for one request: both limits consulted, the binding one reported. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests per minute of the binding limit (the one with fewer remaining). */
  limit: number;
  remaining: number;
  /** Seconds until the binding limit is fully replenished. */
  resetSeconds: number;
  /** Seconds to wait before retrying; 0 when allowed. */
  retryAfterSeconds: number;
  /** Which limit decided: the subject's own or the tenant-wide one. */
  scope: "subject" | "tenant";
}

export interface TokenWindowUsage {
  limit: number;
  used: number;
  /** Tokens held by open leases (not yet charged). */
  reserved: number;
  remaining: number;
  /** ISO time the window resets (UTC). */
  resetsAt: string;
}

export interface QuotaUsage {
  daily: TokenWindowUsage;
  monthly: TokenWindowUsage;
  openReservations: number;
}

/** One call on a budget lease: charge reported usage, then resize toward `size` (at least `min`). */
export interface LeaseRequest {
  /** The lease to act on, or null to open one. */
  leaseId: string | null;
  /** Tokens used since the last call, charged to the lease's windows. */
  charge: number;
  /** The size wanted after the call; 0 closes the lease. */
  size: number;
  /** The smallest size that will do (growing below it is "budget_exceeded"). */
  min: number;
}

export interface BudgetLease {
  /** Null once the lease is closed. */
  leaseId: string | null;
  size: number;
  /** ISO time after which an unrenewed lease is charged in full and closed. */
  expiresAt: string | null;
  daily: TokenWindowUsage;
  monthly: TokenWindowUsage;
}

/**
 * The token budget of one chat turn, held by the gateway (an RpcTarget passed to the chat
 * worker): the turn reserves what its next model call may spend — when it knows the prompt it will
 * actually send — and settles once with what it used. Reservations come from the gateway's lease,
 * so most need no Durable Object call; over budget is "budget_exceeded".
 */
export interface TurnBudget {
  /** Reserves `tokens` more for this turn; resolves to the total reserved so far. */
  reserve(tokens: number): Promise<RpcResult<{ reserved: number }>>;
  /** Ends the turn's budget: `usedTokens` is charged, the rest of the reservation given back. */
  settle(usedTokens: number): Promise<void>;
}

/**
 * What a chat call may spend: the gateway's TurnBudget, what the gateway reserved on it already
 * (so a turn whose estimate it could make itself — a stateless completion — needs no call back to
 * reserve), and who settles: "callee" for a stream (the chat worker settles when it ends), "caller"
 * for a whole answer (the result carries the usage — `usage` of the reply, or `details.usedTokens`
 * of a failure — and the gateway settles from it, with no call back).
 */
export interface TurnGrant {
  budget: TurnBudget;
  reserved: number;
  settledBy: "caller" | "callee";
}

/** The failure detail carrying the tokens a failed, caller-settled turn used. */
export const USED_TOKENS_DETAIL = "usedTokens";

// ─── An API key's own limits (docs/admission.md, "Per-key limits") ─────────────────────────────

/** Which ledger a budget call is for: the tenant's, or the calling key's own (`${tenantId}:key:${keyId}`). */
export type BudgetScope = "tenant" | "key";

/** The request-rate limit a key's requests are admitted against: its own, never above the tenant's `perKey`. */
export function keyRateLimit(config: TenantConfig, limits: KeyLimits | null | undefined): RateLimitConfig {
  const perKey = config.rateLimits.perKey;
  if (!limits || (limits.requestsPerMinute === undefined && limits.burst === undefined)) return perKey;
  const perMinute = Math.min(limits.requestsPerMinute ?? perKey.perMinute, perKey.perMinute);
  // Without a burst of its own, a key may spend at most a minute of its rate at once.
  const burst = Math.min(limits.burst ?? perMinute, perKey.burst);
  return { perMinute, burst };
}

/**
 * The highest price per million tokens (prompt or completion) of any model a key's tokens can be
 * spent on — every allowed chat model and the embeddings model — from the tenant's `pricing`; a
 * model not priced there costs 0 (as in the usage reports). USD budgets are converted at this
 * price: a conservative rule, since a token is never charged less than it can cost.
 */
export function maxPricePerMillionTokens(config: TenantConfig): number {
  const pricing = config.pricing ?? {};
  let max = 0;
  for (const model of [...config.ai.chat.allowed, config.ai.embeddings.model]) {
    const price = Object.hasOwn(pricing, model) ? pricing[model] : undefined;
    if (price) max = Math.max(max, price.promptUsdPerMillion, price.completionUsdPerMillion);
  }
  return max;
}

/** What a key's own budget of one window is counted in: tokens, USD converted to tokens, or none (the tenant's only). */
export type KeyBudgetUnit = "tokens" | "usd";

/** A key's budgets as its QuotaLedger counts them: tokens per UTC day and month, and which limit binds each. */
export interface KeyTokenBudgets {
  dailyTokens: number;
  monthlyTokens: number;
  units: { daily: KeyBudgetUnit | null; monthly: KeyBudgetUnit | null };
  /** USD per million tokens the USD budgets were converted at (0: no model is priced). */
  pricePerMillion: number;
}

/** Tokens a USD amount buys at `pricePerMillion` (unbounded when nothing is priced). */
export function usdToTokens(usd: number, pricePerMillion: number): number {
  if (pricePerMillion <= 0) return Number.POSITIVE_INFINITY;
  return Math.floor((usd * 1_000_000) / pricePerMillion + 1e-9);
}

/**
 * A key's token budgets: per window the least of its token budget, its USD budget converted at
 * `maxPricePerMillionTokens`, and the tenant's budget (a key never has more than its tenant).
 * Null when the key has no budget that binds (none set, or only USD ones while nothing is
 * priced): then it has no ledger of its own and costs no Durable Object call.
 */
export function keyTokenBudgets(config: TenantConfig, limits: KeyLimits | null | undefined): KeyTokenBudgets | null {
  if (!limits) return null;
  const pricePerMillion = maxPricePerMillionTokens(config);
  const window = (tokens: number | undefined, usd: number | undefined, tenant: number) => {
    const byTokens = tokens ?? Number.POSITIVE_INFINITY;
    const byUsd = usd === undefined ? Number.POSITIVE_INFINITY : usdToTokens(usd, pricePerMillion);
    const own = Math.min(byTokens, byUsd);
    const unit: KeyBudgetUnit | null = own === Number.POSITIVE_INFINITY ? null : byUsd < byTokens ? "usd" : "tokens";
    return { tokens: Math.min(own, tenant), unit };
  };
  const daily = window(limits.dailyTokens, limits.dailyUsd, config.budgets.dailyTokens);
  const monthly = window(limits.monthlyTokens, limits.monthlyUsd, config.budgets.monthlyTokens);
  if (daily.unit === null && monthly.unit === null) return null;
  return {
    dailyTokens: daily.tokens,
    monthlyTokens: monthly.tokens,
    units: { daily: daily.unit, monthly: monthly.unit },
    pricePerMillion,
  };
}

/** What a key's token-rate limit said about one charge (a GCRA over tokens, burst = one minute of it). */
export interface TokenRateCharge {
  allowed: boolean;
  /** The key's tokens per minute. */
  limit: number;
  /** Tokens that could still be charged right now. */
  remaining: number;
  /** Milliseconds until `tokens` could be charged, when refused; else 0. */
  retryAfterMs: number;
}
