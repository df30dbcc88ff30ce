/**
 * Visitor tokens and session tickets of the web chat widget (docs/widget.md), both HMAC-SHA256
 * under the gateway secret WIDGET_TOKEN_SECRET.
 *
 * A visitor token is `vt_<claims>.<signature>` (both base64url): the tenant, the publishable key
 * (its id, and its hash, so a lookup goes through the key cache and sees a revocation like any key
 * lookup), a random visitor id chosen here, the origin it was issued to and its expiry (15 min).
 * The visitor id is what the visitor's own rate limit is keyed by, so that limit does not depend
 * on anything the client chooses; a new visitor id costs a `POST /v1/widget/session`, which is
 * limited per client IP.
 *
 * A session ticket binds a chat session to the visitor who started it: HMAC over tenant, key,
 * visitor and session id. A visitor continues a session only with its ticket, so a session id
 * alone (another visitor's, or one a secret key made) gets a visitor nowhere.
 *
 * Each signature covers a distinct label ("vt1", "st1"), so a ticket can never pass as a token.
 */
import { base64url, randomToken } from "@crispy/worker-kit/util";
import { ConfigError } from "@crispy/worker-kit";
import { configOf } from "../config";
import { HttpError } from "../http/errors";

export const VISITOR_TOKEN_PREFIX = "vt_";
const MIN_SECRET_CHARS = 32;
const MAX_TOKEN_CHARS = 4096;

export interface VisitorClaims {
  tenantId: string;
  keyId: string;
  /** SHA-256 (hex) of the publishable key. */
  keyHash: string;
  visitorId: string;
  /** The page origin the token was issued to; every call with it must come from there. */
  origin: string;
  /** Unix seconds. */
  expiresAt: number;
}

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

async function sign(secret: string, label: string, message: string): Promise<string> {
  return base64url(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${label}.${message}`)));
}

async function verify(secret: string, label: string, message: string, signature: string): Promise<boolean> {
  const bytes = fromBase64url(signature);
  if (bytes?.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), bytes, encoder.encode(`${label}.${message}`));
}

/** The widget secret, or 403 when widget sessions are off (unset); a too-short secret is a configuration error. */
export function widgetSecret(env: GatewayEnv): string {
  const secret = configOf(env).WIDGET_TOKEN_SECRET;
  if (secret === undefined) {
    throw new HttpError("forbidden", "the web chat widget is disabled: the WIDGET_TOKEN_SECRET secret is not set");
  }
  if (secret.length < MIN_SECRET_CHARS) {
    throw new ConfigError(`gateway: WIDGET_TOKEN_SECRET must be at least ${MIN_SECRET_CHARS} characters`, [
      "WIDGET_TOKEN_SECRET",
    ]);
  }
  return secret;
}

/** A new random visitor id. */
export function newVisitorId(): string {
  return `vis_${randomToken(12)}`;
}

export function looksLikeVisitorToken(value: string): boolean {
  return value.startsWith(VISITOR_TOKEN_PREFIX);
}

/** The signed token of `claims`. */
export async function signVisitorToken(secret: string, claims: VisitorClaims): Promise<string> {
  const body = base64url(
    encoder.encode(
      JSON.stringify({
        t: claims.tenantId,
        k: claims.keyId,
        h: claims.keyHash,
        v: claims.visitorId,
        o: claims.origin,
        e: claims.expiresAt,
      }),
    ),
  );
  return `${VISITOR_TOKEN_PREFIX}${body}.${await sign(secret, "vt1", body)}`;
}

/** The claims of a token this gateway signed (expired or not: the caller judges expiry), else null. */
export async function readVisitorToken(secret: string, token: string): Promise<VisitorClaims | null> {
  if (!looksLikeVisitorToken(token) || token.length > MAX_TOKEN_CHARS) return null;
  const [body, signature, ...rest] = token.slice(VISITOR_TOKEN_PREFIX.length).split(".");
  if (body === undefined || signature === undefined || rest.length > 0) return null;
  if (!(await verify(secret, "vt1", body, signature))) return null;
  const bytes = fromBase64url(body);
  if (!bytes) return null;
  try {
    const raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const { t, k, h, v, o, e } = raw;
    if (typeof t !== "string" || typeof k !== "string" || typeof h !== "string") return null;
    if (typeof v !== "string" || typeof o !== "string" || typeof e !== "number") return null;
    return { tenantId: t, keyId: k, keyHash: h, visitorId: v, origin: o, expiresAt: e };
  } catch {
    return null;
  }
}

function ticketMessage(claims: VisitorClaims, sessionId: string): string {
  return [claims.tenantId, claims.keyId, claims.visitorId, sessionId].join("\n");
}

/** The ticket binding `sessionId` to the visitor of `claims`. */
export function sessionTicket(secret: string, claims: VisitorClaims, sessionId: string): Promise<string> {
  return sign(secret, "st1", ticketMessage(claims, sessionId));
}

/** Whether `ticket` binds `sessionId` to the visitor of `claims` (compared in constant time). */
export function ticketMatches(
  secret: string,
  claims: VisitorClaims,
  sessionId: string,
  ticket: string | null,
): Promise<boolean> {
  if (ticket === null) return Promise.resolve(false);
  return verify(secret, "st1", ticketMessage(claims, sessionId), ticket);
}
