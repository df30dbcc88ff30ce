/**
 * Publishable keys (`pk_…`, docs/widget.md): keys a web page may show, for the chat widget. One is
 * bound to a list of origins, has the `chat` scope and optionally `search`, and always a daily
 * ceiling of its own (a token or USD budget, spent through the per-key budget machinery,
 * admission/key-budget.ts). A publishable key does one thing: `POST /v1/widget/session` from one
 * of its origins, which hands the visitor a short-lived signed token (auth/visitor-token.ts); the
 * visitor's calls carry that token, never the key (auth/visitor-auth.ts).
 */
import {
  type CreateKeyBody,
  type KeyLimits,
  PUBLISHABLE_LIMITS,
  type PublishableSettings,
  type TenantConfig,
  type VisitorLimits,
  type VisitorLimitsInput,
} from "@crispy/contracts";
import { configOf } from "../config";
import { corsHeaders } from "../http/cors";
import { HttpError } from "../http/errors";
import type { RequestState } from "../state";
import { hashKey, type KeyRecord, looksLikePublishableKey, type NewKeyInput } from "./api-keys";
import { namedTenant, tenantById } from "./authenticate";
import { lookupKey } from "./key-cache";

function fieldError(path: string, message: string): HttpError {
  return new HttpError("validation_failed", `${path}: ${message}`, { issues: [{ path, message }] });
}

/** A visitor limit as given, with its default burst, checked against the tenant's per-key rate. */
function visitorLimitsOf(config: TenantConfig, given: VisitorLimitsInput | undefined): VisitorLimits {
  const defaults = PUBLISHABLE_LIMITS.defaultVisitorLimits;
  const requestsPerMinute = given?.requestsPerMinute ?? defaults.requestsPerMinute;
  const burst = given?.burst ?? Math.min(requestsPerMinute, defaults.burst);
  const perKey = config.rateLimits.perKey;
  if (requestsPerMinute > perKey.perMinute)
    throw fieldError(
      "visitorLimits.requestsPerMinute",
      `must be at most the tenant's ${perKey.perMinute} (rateLimits.perKey.perMinute)`,
    );
  if (burst > perKey.burst)
    throw fieldError("visitorLimits.burst", `must be at most the tenant's ${perKey.burst} (rateLimits.perKey.burst)`);
  return { requestsPerMinute, burst };
}

/** Whether limits give the key a daily ceiling of its own. */
function hasDailyCeiling(limits: KeyLimits | null | undefined): boolean {
  return limits?.dailyTokens !== undefined || limits?.dailyUsd !== undefined;
}

/**
 * The key the operator asked for, its publishable settings resolved: origins deduplicated, visitor
 * limits defaulted and checked (a 400 naming the field), and a daily ceiling when it gave none (a
 * tenth of the tenant's daily tokens). A secret key's request as it is.
 */
export function newKeyInput(config: TenantConfig, body: CreateKeyBody): NewKeyInput {
  if (body.kind !== "publishable") return body;
  const limits: KeyLimits = hasDailyCeiling(body.limits)
    ? { ...body.limits }
    : {
        ...body.limits,
        dailyTokens: Math.min(
          body.limits?.monthlyTokens ?? Number.POSITIVE_INFINITY,
          Math.floor(config.budgets.dailyTokens * PUBLISHABLE_LIMITS.defaultDailyShare),
        ),
      };
  const publishable: PublishableSettings = {
    origins: [...new Set(body.origins ?? [])],
    visitorLimits: visitorLimitsOf(config, body.visitorLimits),
  };
  return { ...body, limits, publishable };
}

/** A change of a publishable key's limits must leave it a daily ceiling (400 otherwise). */
export function checkPublishableLimits(record: KeyRecord, limits: KeyLimits | null): void {
  if (record.kind === "publishable" && !hasDailyCeiling(limits)) {
    throw fieldError(
      "limits",
      "a publishable key always keeps a daily ceiling: limits.dailyTokens or limits.dailyUsd (change it, do not remove it)",
    );
  }
}

/**
 * The tenant config a widget request runs with: the tenant's, but the origins that may read its
 * responses (the app's CORS, http/cors.ts) are the publishable key's, not the tenant's
 * `cors.allowedOrigins`.
 */
export function visitorTenant(config: TenantConfig, origins: string[]): TenantConfig {
  return { ...config, cors: { ...config.cors, allowedOrigins: origins } };
}

/** The refusal as the page that made the request may read it (a widget shows the message). */
export function readableBy(origin: string | null, error: unknown): unknown {
  if (!(error instanceof HttpError) || origin === null) return error;
  return new HttpError(error.code, error.message, error.details, { ...error.headers, ...corsHeaders(origin) });
}

/** The publishable key a request presents (`Authorization: Bearer pk_…` or `x-api-key`), else null. */
export function presentedCredential(request: Request): string | null {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? null;
  return request.headers.get("x-api-key")?.trim() || null;
}

/**
 * Authenticates `POST /v1/widget/session`: a usable publishable key, of the tenant the request
 * names (if it names one), presented from one of the key's origins. Throws 401 for a missing,
 * unknown, revoked or expired key, 403 for a secret key, another tenant's key or a wrong origin.
 */
export async function authenticatePublishable(
  request: Request,
  env: GatewayEnv,
  state: RequestState,
): Promise<{ tenant: TenantConfig; key: KeyRecord & { publishable: PublishableSettings } }> {
  const named = namedTenant(request);
  state.tenant = named;
  const presented = presentedCredential(request);
  const challenge = { "www-authenticate": "Bearer" };
  if (presented === null) {
    throw new HttpError(
      "unauthorized",
      "a publishable key is required: Authorization: Bearer pk_…",
      undefined,
      challenge,
    );
  }
  if (!looksLikePublishableKey(presented)) {
    throw presented.startsWith("ce_")
      ? new HttpError(
          "forbidden",
          "a visitor session needs a publishable key (pk_…); never put a secret key (ce_…) in a web page",
        )
      : new HttpError("unauthorized", "publishable key is not valid", undefined, challenge);
  }
  const now = Date.now();
  const record = await lookupKey(env.KEYS_DB, await hashKey(presented), configOf(env).KEY_CACHE_TTL_MS, now);
  if (record?.kind !== "publishable" || !record.publishable)
    throw new HttpError("unauthorized", "publishable key is not valid", undefined, challenge);
  if (record.revokedAt) throw new HttpError("unauthorized", "publishable key has been revoked", undefined, challenge);
  if (record.expiresAt && Date.parse(record.expiresAt) <= now)
    throw new HttpError("unauthorized", "publishable key has expired", { expiredAt: record.expiresAt }, challenge);
  if (named && named.id !== record.tenantId)
    throw new HttpError("forbidden", `publishable key does not belong to tenant "${named.id}"`);
  const tenant = named ?? tenantById(record.tenantId);
  if (!tenant) throw new HttpError("tenant_unknown", `tenant "${record.tenantId}" of this key no longer exists`);
  state.tenant = tenant;
  checkOrigin(state.origin, record.publishable.origins);
  state.tenant = visitorTenant(tenant, record.publishable.origins);
  return { tenant, key: record as KeyRecord & { publishable: PublishableSettings } };
}

/** 403 unless `origin` is one of `origins`; a request without an Origin (not from a web page) is refused too. */
export function checkOrigin(origin: string | null, origins: string[]): asserts origin is string {
  if (origin === null) {
    throw new HttpError(
      "forbidden",
      "publishable keys and visitor tokens work only from a web page on one of the key's origins: the request has no Origin header",
    );
  }
  if (!origins.includes(origin)) {
    throw new HttpError("forbidden", `origin ${origin.slice(0, 256)} is not one of this publishable key's origins`, {
      origin: origin.slice(0, 256),
    });
  }
}
