/**
 * Tenant resolution and authentication for every data route, in the seeds' order:
 * `x-tenant-id` header → `Host` mapping → the API key's own tenant. A named tenant is never
 * enough: every data route needs a key (`Authorization: Bearer` or `x-api-key`) that belongs to
 * that tenant and carries the route's scope.
 */
import type { Scope, TenantConfig } from "@crispy/contracts";
import { tenantIdByHost, tenantsById } from "@crispy/tenants";
import { configOf } from "../config";
import { HttpError } from "../http/errors";
import { isOriginAllowed } from "../http/cors";
import type { AuthenticatedState, RequestState } from "../state";
import { hashKey, looksLikeKey, touchKey, type KeyRecord } from "./api-keys";
import { lookupKey, shouldTouch } from "./key-cache";
import { pinnedTenantId } from "./pinned-tenant";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The tenant `id`, if it exists and this gateway serves it (a pinned gateway serves one: pinned-tenant.ts). */
export function tenantById(id: string): TenantConfig | undefined {
  const pinned = pinnedTenantId();
  if (pinned !== undefined && id !== pinned) return undefined;
  return Object.hasOwn(tenantsById, id) ? tenantsById[id] : undefined;
}

/**
 * The tenant named by the request itself (header, then host), before any key is looked at; on a
 * pinned gateway, the pinned tenant when nothing names one.
 */
export function namedTenant(request: Request): TenantConfig | undefined {
  const header = request.headers.get("x-tenant-id");
  if (header !== null) {
    const tenant = tenantById(header.trim());
    if (!tenant) throw new HttpError("tenant_unknown", `tenant "${header.trim().slice(0, 64)}" does not exist`);
    return tenant;
  }
  const host = request.headers.get("host")?.toLowerCase() ?? new URL(request.url).host;
  const mapped =
    (Object.hasOwn(tenantIdByHost, host) ? tenantIdByHost[host] : undefined) ??
    tenantIdByHost[host.replace(/:\d+$/, "")];
  if (mapped) {
    const tenant = tenantById(mapped);
    if (!tenant) throw new HttpError("tenant_unknown", `tenant "${mapped}" (host ${host}) is not served here`);
    return tenant;
  }
  const pinned = pinnedTenantId();
  return pinned === undefined ? undefined : tenantById(pinned);
}

function presentedKey(request: Request): string | null {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = BEARER.exec(authorization);
    if (!match)
      throw new HttpError("unauthorized", "Authorization header must be `Bearer <api key>`", undefined, {
        "www-authenticate": "Bearer",
      });
    return match[1]!;
  }
  return request.headers.get("x-api-key")?.trim() || null;
}

function checkUsable(record: KeyRecord | null, now: number): KeyRecord {
  const challenge = { "www-authenticate": 'Bearer error="invalid_token"' };
  if (!record) throw new HttpError("unauthorized", "API key is not valid", undefined, challenge);
  if (record.revokedAt) throw new HttpError("unauthorized", "API key has been revoked", undefined, challenge);
  if (record.expiresAt && Date.parse(record.expiresAt) <= now) {
    throw new HttpError("unauthorized", "API key has expired", { expiredAt: record.expiresAt }, challenge);
  }
  return record;
}

/**
 * Resolves and authenticates the request's tenant; on success `state` carries the tenant and the
 * key. `scope` is the scope the route needs; undefined means any valid key of the tenant.
 */
export async function authenticate(
  request: Request,
  env: GatewayEnv,
  ctx: ExecutionContext,
  state: RequestState,
  scope: Scope | undefined,
): Promise<AuthenticatedState> {
  let tenant = namedTenant(request);
  // Known from here on for CORS and log lines, even when authentication then fails.
  state.tenant = tenant;
  const key = presentedKey(request);
  if (!tenant && key === null) {
    throw new HttpError(
      "tenant_required",
      "no tenant: send an API key (Authorization: Bearer <key>), an x-tenant-id header, or use a tenant's host",
    );
  }
  if (key === null) {
    throw new HttpError("unauthorized", "an API key is required: Authorization: Bearer <key> or x-api-key", undefined, {
      "www-authenticate": "Bearer",
    });
  }
  const now = Date.now();
  const record = checkUsable(
    looksLikeKey(key) ? await lookupKey(env.KEYS_DB, await hashKey(key), configOf(env).KEY_CACHE_TTL_MS, now) : null,
    now,
  );
  // The key's own tenant must be one this gateway serves (it may have been removed, or a pinned
  // gateway serves another) before it is compared with the named one.
  const keyTenant = tenantById(record.tenantId);
  if (!keyTenant)
    throw new HttpError("tenant_unknown", `tenant "${record.tenantId}" of this API key is not served here`);
  if (tenant && keyTenant.id !== tenant.id) {
    throw new HttpError("forbidden", `API key does not belong to tenant "${tenant.id}"`);
  }
  tenant ??= keyTenant;
  state.tenant = tenant;
  if (scope && !record.scopes.includes(scope)) {
    throw new HttpError("forbidden", `API key lacks the "${scope}" scope`, {
      requiredScope: scope,
      scopes: record.scopes,
    });
  }
  if (state.origin !== null && !isOriginAllowed(state.origin, tenant)) {
    throw new HttpError("forbidden", `origin ${state.origin} is not allowed for tenant "${tenant.id}"`);
  }
  if (shouldTouch(record.id, now)) ctx.waitUntil(touchKey(env.KEYS_DB, record.id, new Date(now)));
  state.key = record;
  return state as AuthenticatedState;
}
