/** Schemas and types of the public HTTP API (validated once, at the gateway). */
import { z } from "zod";
import { SCOPES } from "./context";
import { TOOL_NAME_PATTERN } from "./tool-limits";
import type { ErrorCode } from "./errors";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

export const ScopeSchema = z.enum(SCOPES);

export const CreateKeyBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  scopes: z.array(ScopeSchema).min(1).max(SCOPES.length),
  /** Tool allow-list: the only tools this key may list and call (omitted: every tool). */
  tools: z.array(z.string().regex(TOOL_NAME_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -")).max(256).optional(),
  /** Lifetime in seconds; omitted means the key does not expire. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(5 * 366 * 86_400)
    .optional(),
});
export type CreateKeyBody = z.output<typeof CreateKeyBodySchema>;

export interface ApiKeySummary {
  id: string;
  tenantId: string;
  name: string | null;
  /** The first characters of the key, enough to recognise it; the key itself is never stored. */
  prefix: string;
  scopes: string[];
  /** The key's tool allow-list; null: every tool the tenant offers. */
  tools: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedApiKey extends ApiKeySummary {
  /** Shown once, at creation. */
  key: string;
}

export interface TenantSummary {
  id: string;
  name: string;
  key: { id: string; scopes: string[]; expiresAt: string | null };
  features: Record<string, boolean>;
  models: { chat: string; allowed: string[]; embeddings: string };
  rateLimits: { perKey: { perMinute: number; burst: number }; tenant: { perMinute: number; burst: number } };
  budgets: { dailyTokens: number; monthlyTokens: number };
}
