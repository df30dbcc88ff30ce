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

// ─── Publishable keys (docs/widget.md) ─────────────────────────────────────────────────────────

/** A secret key (`ce_…`, server side) or a publishable one (`pk_…`, for a web page's chat widget). */
export const KEY_KINDS = ["secret", "publishable"] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** The only scopes a publishable key may have: `chat`, and optionally `search`. */
export const PUBLISHABLE_SCOPES = ["chat", "search"] as const;

export const PUBLISHABLE_LIMITS = {
  maxOrigins: 20,
  maxOriginChars: 256,
  /** Per visitor when a key is created without `visitorLimits`. */
  defaultVisitorLimits: { requestsPerMinute: 10, burst: 5 },
  /** Without a daily token or USD budget of its own, a publishable key gets this share of the tenant's daily tokens. */
  defaultDailyShare: 0.1,
  /** A visitor token's lifetime, and how long after its expiry it may still be renewed into a new one (same visitor id). */
  visitorTokenSeconds: 15 * 60,
  renewalSeconds: 30 * 86_400,
} as const;

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
  } catch {
    return false;
  }
}

/** A web origin exactly as a browser sends it in `Origin`: `https://host[:port]`, lowercase, no path or trailing slash. */
export const OriginSchema = z
  .string()
  .max(PUBLISHABLE_LIMITS.maxOriginChars)
  .refine(isOrigin, "must be an origin as browsers send it: http(s)://host[:port], lowercase, no path");

/** Each visitor's own request rate on a publishable key (at most the tenant's `rateLimits.perKey`). */
export const VisitorLimitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().min(1).max(1_000_000),
  /** Defaults to the smaller of `requestsPerMinute` and 5. */
  burst: z.number().int().min(1).max(100_000).optional(),
});
export type VisitorLimitsInput = z.output<typeof VisitorLimitsSchema>;
export interface VisitorLimits {
  requestsPerMinute: number;
  burst: number;
}

/** What a publishable key has beyond a secret one. */
export interface PublishableSettings {
  /** The page origins it works from (the request's `Origin` must be one of them). */
  origins: string[];
  visitorLimits: VisitorLimits;
}

/**
 * `POST /admin/tenants/:id/keys`. A publishable key (`kind: "publishable"`) needs `origins`, has the
 * `chat` scope and optionally `search`, no tool allow-list, and always a daily ceiling (its
 * `limits.dailyTokens` or `limits.dailyUsd`; without one it gets a tenth of the tenant's daily tokens).
 */
export const CreateKeyBodySchema = z
  .strictObject({
    /** Omitted: "secret". */
    kind: z.enum(KEY_KINDS).default("secret"),
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
    /** Publishable keys only: the page origins the key works from. */
    origins: z.array(OriginSchema).min(1).max(PUBLISHABLE_LIMITS.maxOrigins).optional(),
    /** Publishable keys only: each visitor's request rate (default 10/min, burst 5). */
    visitorLimits: VisitorLimitsSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (body.kind === "publishable") {
      if (!body.origins) issue("origins", "a publishable key needs the origins (web pages) it may be used from");
      const allowed: readonly string[] = PUBLISHABLE_SCOPES;
      if (!body.scopes.includes("chat") || body.scopes.some((scope) => !allowed.includes(scope)))
        issue("scopes", 'a publishable key has the "chat" scope and optionally "search", nothing else');
      if (body.tools) issue("tools", "a publishable key cannot call tools");
    } else {
      if (body.origins) issue("origins", 'only a publishable key (kind "publishable") has origins');
      if (body.visitorLimits) issue("visitorLimits", 'only a publishable key (kind "publishable") has visitor limits');
    }
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
  kind: KeyKind;
  /** A publishable key's origins and visitor limits; absent for a secret key. */
  publishable?: PublishableSettings;
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

// ─── The web chat widget's visitor sessions (docs/widget.md) ────────────────────────────────────

/** The request header carrying a visitor's session ticket, and the response header it comes back in. */
export const SESSION_TICKET_HEADER = "x-session-ticket";

/**
 * `POST /v1/widget/session` with a publishable key (`Authorization: Bearer pk_…`) from one of its
 * origins: a short-lived visitor token. `previous`, the visitor's last token (expired up to 30 days
 * ago is fine), keeps its visitor id, so its sessions stay its own; anything else gets a new visitor.
 */
export const WidgetSessionBodySchema = z.strictObject({
  previous: z.string().max(4096).optional(),
});
export type WidgetSessionBody = z.output<typeof WidgetSessionBodySchema>;

/** The answer to `POST /v1/widget/session`: the token for `POST /v1/chat` (and `/v1/search` with that scope). */
export const WidgetSessionSchema = z.object({
  /** `Authorization: Bearer <token>` on the visitor's calls, from the same origin. */
  token: z.string(),
  expiresAt: z.string(),
  expiresInSeconds: z.number().int(),
  /** Random, chosen by the gateway; the subject of the visitor's own rate limit. */
  visitorId: z.string(),
  /** Whether `previous` was valid, so the visitor id (and its sessions) carried over. */
  renewed: z.boolean(),
  tenantId: z.string(),
  keyId: z.string(),
  scopes: z.array(ScopeSchema),
  visitorLimits: z.object({ requestsPerMinute: z.number().int(), burst: z.number().int() }),
});
export type WidgetSession = z.output<typeof WidgetSessionSchema>;
