/** Contracts of the ratelimit worker's RPC surface, and of the budget a chat turn spends. */
import type { RpcResult } from "./errors";

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
