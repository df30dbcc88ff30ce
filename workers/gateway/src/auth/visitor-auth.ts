/**
 * Where publishable keys and visitor tokens may go (docs/widget.md), and how a visitor's request is
 * authenticated.
 *
 * - A publishable key (`pk_…`) works on `POST /v1/widget/session` only; a visitor token (`vt_…`)
 *   on `POST /v1/chat` and `POST /v1/search` only (with the key's `chat` / `search` scope). Either
 *   one anywhere else — admin, ingest, tools, MCP, sessions, keys, usage … — is refused with 403
 *   before the route runs (`refuseWidgetCredentials`, the router's first step), so neither can ever
 *   reach a route that was not written for it.
 * - A visitor token must carry this gateway's signature and be unexpired (401 otherwise), come
 *   from the origin it was issued to (403), name the tenant the request names, if any (403), and
 *   its publishable key must still be usable (401 once revoked: the key cache bounds how late).
 */
import type { Scope } from "@crispy/contracts";
import { configOf } from "../config";
import { HttpError } from "../http/errors";
import type { Handler } from "../routes/handler";
import type { AuthenticatedState, RequestState } from "../state";
import { PUBLISHABLE_KEY_PREFIX } from "./api-keys";
import { namedTenant, tenantById } from "./authenticate";
import { lookupKey } from "./key-cache";
import { checkOrigin, presentedCredential, readableBy, visitorTenant } from "./publishable-keys";
import { looksLikeVisitorToken, readVisitorToken, type VisitorClaims, widgetSecret } from "./visitor-token";

/** `METHOD path` → what a visitor token may do there. */
const VISITOR_ROUTES: Readonly<Record<string, Scope>> = { "POST /v1/chat": "chat", "POST /v1/search": "search" };
const SESSION_ROUTE = "POST /v1/widget/session";

function routeOf(request: Request): string {
  return `${request.method} ${new URL(request.url).pathname}`;
}

/** Whether the request authenticates with a visitor token. */
export function isVisitorRequest(request: Request): boolean {
  const credential = presentedCredential(request);
  return credential !== null && looksLikeVisitorToken(credential);
}

/**
 * The router's first step: a publishable key or a visitor token on a route other than its own is
 * refused (403, readable by the page that sent it); anything else passes on (undefined).
 */
export const refuseWidgetCredentials: Handler = (request, _env, _ctx, state) => {
  const credential = presentedCredential(request);
  if (credential === null) return undefined;
  const route = routeOf(request);
  let refusal: HttpError | null = null;
  if (credential.startsWith(PUBLISHABLE_KEY_PREFIX) && route !== SESSION_ROUTE) {
    refusal = new HttpError(
      "forbidden",
      `a publishable key works only on ${SESSION_ROUTE}, which gives the visitor a token for POST /v1/chat (and POST /v1/search)`,
    );
  } else if (looksLikeVisitorToken(credential) && !Object.hasOwn(VISITOR_ROUTES, route)) {
    refusal = new HttpError("forbidden", "a visitor token works only on POST /v1/chat and POST /v1/search");
  }
  if (refusal) throw readableBy(state.origin, refusal);
  return undefined;
};

/**
 * Authenticates a visitor's request for `scope` (see the header): on success `state` carries the
 * tenant — with the publishable key's origins as its CORS origins — and the key.
 */
export async function authenticateVisitor(
  request: Request,
  env: GatewayEnv,
  state: RequestState,
  scope: Scope | undefined,
): Promise<{ authed: AuthenticatedState; claims: VisitorClaims; secret: string }> {
  const route = routeOf(request);
  if (!Object.hasOwn(VISITOR_ROUTES, route) || (scope !== undefined && VISITOR_ROUTES[route] !== scope)) {
    throw new HttpError("forbidden", "a visitor token works only on POST /v1/chat and POST /v1/search");
  }
  const secret = widgetSecret(env);
  const challenge = { "www-authenticate": 'Bearer error="invalid_token"' };
  const claims = await readVisitorToken(secret, presentedCredential(request) ?? "");
  if (!claims) throw new HttpError("unauthorized", "visitor token is not valid", undefined, challenge);
  const named = namedTenant(request);
  if (named && named.id !== claims.tenantId) {
    throw new HttpError("forbidden", `visitor token does not belong to tenant "${named.id}"`);
  }
  if (claims.expiresAt * 1000 <= Date.now()) {
    throw new HttpError(
      "unauthorized",
      "visitor token has expired; get a new one from POST /v1/widget/session",
      { reason: "token_expired", expiredAt: new Date(claims.expiresAt * 1000).toISOString() },
      challenge,
    );
  }
  if (state.origin !== claims.origin) {
    if (state.origin === null) checkOrigin(state.origin, []);
    throw new HttpError(
      "forbidden",
      `visitor token was issued to ${claims.origin.slice(0, 256)}, not to ${state.origin.slice(0, 256)}`,
    );
  }
  const now = Date.now();
  const record = await lookupKey(env.KEYS_DB, claims.keyHash, configOf(env).KEY_CACHE_TTL_MS, now);
  const usable =
    record?.kind === "publishable" &&
    record.id === claims.keyId &&
    record.tenantId === claims.tenantId &&
    record.revokedAt === null &&
    (record.expiresAt === null || Date.parse(record.expiresAt) > now);
  if (!usable || !record.publishable) {
    throw new HttpError("unauthorized", "the publishable key of this visitor token is revoked or expired", undefined, {
      "www-authenticate": 'Bearer error="invalid_token"',
    });
  }
  const tenant = tenantById(claims.tenantId);
  if (!tenant) throw new HttpError("tenant_unknown", `tenant "${claims.tenantId}" of this token no longer exists`);
  checkOrigin(state.origin, record.publishable.origins);
  state.tenant = visitorTenant(tenant, record.publishable.origins);
  const needed = VISITOR_ROUTES[route]!;
  if (!record.scopes.includes(needed)) {
    throw new HttpError("forbidden", `the publishable key lacks the "${needed}" scope`, {
      requiredScope: needed,
      scopes: record.scopes,
    });
  }
  state.key = record;
  return { authed: state as AuthenticatedState, claims, secret };
}

/** A visitor token's claims whatever its expiry, if it is one this gateway signed for that key and origin. */
export async function renewableClaims(
  secret: string,
  token: string | undefined,
  expect: { keyId: string; tenantId: string; origin: string },
  renewalSeconds: number,
): Promise<VisitorClaims | null> {
  if (token === undefined) return null;
  const claims = await readVisitorToken(secret, token);
  if (!claims) return null;
  const fresh = claims.expiresAt * 1000 + renewalSeconds * 1000 > Date.now();
  const same = claims.keyId === expect.keyId && claims.tenantId === expect.tenantId && claims.origin === expect.origin;
  return fresh && same ? claims : null;
}
