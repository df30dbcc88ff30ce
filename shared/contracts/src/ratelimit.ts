/** Contracts of the ratelimit worker's RPC surface. */

/** Who a request-rate limit applies to: an API key, or a client IP for unauthenticated routes. */
export type RateLimitSubject = { kind: "key"; id: string } | { kind: "ip"; id: string };

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

export interface Reservation {
  reservationId: string;
  tokens: number;
  /** ISO time after which an unsettled reservation is charged at its estimate and closed. */
  expiresAt: string;
}
