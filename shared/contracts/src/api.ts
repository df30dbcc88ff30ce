/** Schemas and types of the public HTTP API (validated once, at the gateway). */
import { z } from "zod";
import { SCOPES } from "./context";
import { TOOL_REF_MESSAGE, TOOL_REF_PATTERN } from "./tool-limits";
import type { ErrorCode } from "./errors";
import type { TokenWindowUsage } from "./ratelimit";
import { TenantIdSchema } from "./tenant-config";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

export const ScopeSchema = z.enum(SCOPES);

/**
 * The most a key's own limit may be where the tenant has no limit of that kind to bound it (there
 * is no tenant-wide tokens-per-minute limit nor USD budget): sane maxima, not a tenant's promise.
 */
export const KEY_LIMIT_MAXIMA = {
  tokensPerMinute: 100_000_000,
  usd: 1_000_000,
} as const;

const usdAmount = z
  .number()
  .min(0)
  .max(KEY_LIMIT_MAXIMA.usd)
  .refine(
    (value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6,
    "must be whole cents (at most 2 decimals)",
  );

const KEY_LIMIT_SHAPE = {
  requestsPerMinute: z.number().int().min(1).max(1_000_000),
  burst: z.number().int().min(1).max(100_000),
  tokensPerMinute: z.number().int().min(1).max(KEY_LIMIT_MAXIMA.tokensPerMinute),
  dailyTokens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  monthlyTokens: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  dailyUsd: usdAmount,
  monthlyUsd: usdAmount,
};

/**
 * An API key's own limits, each at most the tenant's (checked against the tenant config by
 * `keyLimitsProblem`): its request rate (instead of the tenant's `rateLimits.perKey`), its token
 * rate, and daily/monthly budgets in tokens or USD (UTC windows), spent alongside the tenant's.
 */
export const KeyLimitsSchema = z.strictObject({
  requestsPerMinute: KEY_LIMIT_SHAPE.requestsPerMinute.optional(),
  burst: KEY_LIMIT_SHAPE.burst.optional(),
  tokensPerMinute: KEY_LIMIT_SHAPE.tokensPerMinute.optional(),
  dailyTokens: KEY_LIMIT_SHAPE.dailyTokens.optional(),
  monthlyTokens: KEY_LIMIT_SHAPE.monthlyTokens.optional(),
  dailyUsd: KEY_LIMIT_SHAPE.dailyUsd.optional(),
  monthlyUsd: KEY_LIMIT_SHAPE.monthlyUsd.optional(),
});
export type KeyLimits = z.output<typeof KeyLimitsSchema>;
export const KEY_LIMIT_FIELDS = Object.keys(KEY_LIMIT_SHAPE) as Array<keyof KeyLimits>;

/** A change of a key's limits (JSON merge patch): a field given changes, `null` removes it, absent keeps it. */
export const KeyLimitsPatchSchema = z.strictObject({
  requestsPerMinute: KEY_LIMIT_SHAPE.requestsPerMinute.nullable().optional(),
  burst: KEY_LIMIT_SHAPE.burst.nullable().optional(),
  tokensPerMinute: KEY_LIMIT_SHAPE.tokensPerMinute.nullable().optional(),
  dailyTokens: KEY_LIMIT_SHAPE.dailyTokens.nullable().optional(),
  monthlyTokens: KEY_LIMIT_SHAPE.monthlyTokens.nullable().optional(),
  dailyUsd: KEY_LIMIT_SHAPE.dailyUsd.nullable().optional(),
  monthlyUsd: KEY_LIMIT_SHAPE.monthlyUsd.nullable().optional(),
});
export type KeyLimitsPatch = z.output<typeof KeyLimitsPatchSchema>;

export const CreateKeyBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  scopes: z.array(ScopeSchema).min(1).max(SCOPES.length),
  /** Tool allow-list: the only tools this key may list and call (omitted: every tool). */
  tools: z.array(z.string().regex(TOOL_REF_PATTERN, TOOL_REF_MESSAGE)).max(256).optional(),
  /** Lifetime in seconds; omitted means the key does not expire. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(5 * 366 * 86_400)
    .optional(),
  /** The key's own limits (omitted: the tenant's per-key rate, and only the tenant's budgets). */
  limits: KeyLimitsSchema.optional(),
});
export type CreateKeyBody = z.output<typeof CreateKeyBodySchema>;

/** `PATCH /admin/tenants/:id/keys/:keyId`: a new name (null: none) and/or a merge patch of the limits (null: none). */
export const UpdateKeyBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).nullable().optional(),
    limits: KeyLimitsPatchSchema.nullable().optional(),
  })
  .refine((body) => body.name !== undefined || body.limits !== undefined, "give name and/or limits to change");
export type UpdateKeyBody = z.output<typeof UpdateKeyBodySchema>;

export interface ApiKeySummary {
  id: string;
  tenantId: string;
  name: string | null;
  /** The first characters of the key, enough to recognise it; the key itself is never stored. */
  prefix: string;
  scopes: string[];
  /** The key's tool allow-list; null: every tool the tenant offers. */
  tools: string[] | null;
  /** The key's own limits; null: the tenant's per-key rate and the tenant's budgets only. */
  limits: KeyLimits | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedApiKey extends ApiKeySummary {
  /** Shown once, at creation. */
  key: string;
}

/** A key as `GET /v1/keys` and `GET /admin/tenants/:id/keys` list it. */
export interface ListedApiKey extends ApiKeySummary {
  /**
   * An active key with a token or USD budget: what it spent against it (in tokens; a USD budget
   * is converted as `keyTokenBudgets` says). Absent for keys without budgets; null when it could
   * not be read (or the listing holds more budgeted keys than it reads, KEY_USAGE_MAX_READS).
   */
  usage?: { daily: TokenWindowUsage; monthly: TokenWindowUsage } | null;
}

/** At most this many budgeted keys' usage is read for one listing (one Durable Object call each). */
export const KEY_USAGE_MAX_READS = 50;

/** Administrative actions the audit log records (docs/audit.md). */
export const AUDIT_ACTIONS = [
  "key.created",
  "key.revoked",
  "key.updated",
  "tool.created",
  "tool.replaced",
  "tool.removed",
  "mcp_server.created",
  "mcp_server.removed",
  "mcp_server.refreshed",
  "document.deleted",
  "tenant.erased",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The actor of an operator action (an API request's actor is its key id). */
export const OPERATOR_ACTOR = "operator";

/** One audit row: who did what to which thing of which tenant, when, in which request. */
export interface AuditRecord {
  id: string;
  tenantId: string;
  /** ISO time of the action. */
  at: string;
  /** The key id that acted, or "operator". */
  actor: string;
  action: AuditAction;
  /** What was acted on: a key id, tool name, MCP server name, document id, tenant id; null when nothing single. */
  target: string | null;
  requestId: string;
  /** What changed, never a secret, a prompt or a document's text. */
  details: Record<string, unknown>;
}

export const AUDIT_PAGE = { defaultSize: 50, maxSize: 200 } as const;

/** `GET /v1/audit?limit&cursor&action`. */
export const AuditQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE.maxSize).default(AUDIT_PAGE.defaultSize),
  action: z.enum(AUDIT_ACTIONS).optional(),
});
export type AuditQuery = z.output<typeof AuditQuerySchema>;

/** `GET /admin/audit?tenant&limit&cursor&action`: one tenant's audit, or every tenant's. */
export const OperatorAuditQuerySchema = AuditQuerySchema.extend({
  tenant: TenantIdSchema.optional(),
});
export type OperatorAuditQuery = z.output<typeof OperatorAuditQuerySchema>;

export interface TenantSummary {
  id: string;
  name: string;
  key: { id: string; scopes: string[]; expiresAt: string | null };
  features: Record<string, boolean>;
  models: { chat: string; allowed: string[]; embeddings: string };
  rateLimits: { perKey: { perMinute: number; burst: number }; tenant: { perMinute: number; burst: number } };
  budgets: { dailyTokens: number; monthlyTokens: number };
}
