/**
 * The web chat widget (docs/widget.md):
 * - `GET /widget.js` — the widget itself (src/widget/crispy-widget.js, imported as text: see the
 *   `rules` in wrangler.jsonc), served as is with an ETag; no key needed to load it.
 * - `POST /v1/widget/session` — a publishable key, from one of its origins, gets the visitor a
 *   short-lived signed token (auth/visitor-token.ts) for `POST /v1/chat` (and `/v1/search`).
 *   Limited per client IP at the key's visitor rate (auth/visitor-limits.ts). Its refusals are
 *   readable by any page (they say why; they carry nothing else), so the widget can show them.
 */
import { PUBLISHABLE_LIMITS, type WidgetSession, WidgetSessionBodySchema } from "@crispy/contracts";
import { traceparentOf } from "@crispy/observability";
import { sha256Hex } from "@crispy/worker-kit/util";
import { hashKey } from "../auth/api-keys";
import { authenticatePublishable, presentedCredential, readableBy } from "../auth/publishable-keys";
import { renewableClaims } from "../auth/visitor-auth";
import { enforceWidgetRateLimit, sessionIssuerSubject } from "../auth/visitor-limits";
import { newVisitorId, signVisitorToken, widgetSecret } from "../auth/visitor-token";
import { configOf } from "../config";
import { readJson } from "../http/body";
import widgetSource from "../widget/crispy-widget.js";
import type { Handler } from "./handler";

let etag: Promise<string> | null = null;

export const widgetScript: Handler = async (request) => {
  etag ??= sha256Hex(widgetSource).then((hash) => `"${hash.slice(0, 32)}"`);
  const tag = await etag;
  const headers = {
    "content-type": "text/javascript; charset=utf-8",
    // Five minutes fresh, then revalidated by ETag (a new deploy is picked up within minutes).
    "cache-control": "public, max-age=300, stale-while-revalidate=86400",
    etag: tag,
    "x-content-type-options": "nosniff",
    // Any site may embed it (pages with Cross-Origin-Embedder-Policy included).
    "cross-origin-resource-policy": "cross-origin",
  };
  if (request.headers.get("if-none-match") === tag) return new Response(null, { status: 304, headers });
  return new Response(widgetSource, { headers });
};

export const widgetSession: Handler = async (request, env, ctx, state) => {
  try {
    const secret = widgetSecret(env);
    const { tenant, key } = await authenticatePublishable(request, env, state);
    state.key = key;
    const context = {
      tenantId: tenant.id,
      requestId: state.requestId,
      traceparent: traceparentOf(state.trace),
      keyId: key.id,
      scopes: key.scopes,
      ...(key.limits ? { keyLimits: key.limits } : {}),
      config: tenant,
    };
    const { visitorLimits } = key.publishable;
    await enforceWidgetRateLimit(
      env,
      ctx,
      state,
      context,
      sessionIssuerSubject(key.id, state.clientIp),
      visitorLimits,
      "client IP",
    );
    const hasBody = request.body !== null && request.headers.get("content-length") !== "0";
    const body = hasBody ? await readJson(request, configOf(env).MAX_BODY_BYTES, WidgetSessionBodySchema) : {};
    const origin = state.origin!;
    const previous = await renewableClaims(
      secret,
      body.previous,
      { keyId: key.id, tenantId: tenant.id, origin },
      PUBLISHABLE_LIMITS.renewalSeconds,
    );
    const seconds = PUBLISHABLE_LIMITS.visitorTokenSeconds;
    const expiresAt = Math.floor(Date.now() / 1000) + seconds;
    // Every token names the key by its hash too, so a visitor's lookup goes through the key cache.
    const keyHash = await hashKey(presentedCredential(request)!);
    const visitorId = previous?.visitorId ?? newVisitorId();
    const token = await signVisitorToken(secret, {
      tenantId: tenant.id,
      keyId: key.id,
      keyHash,
      visitorId,
      origin,
      expiresAt,
    });
    const session: WidgetSession = {
      token,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      expiresInSeconds: seconds,
      visitorId,
      renewed: previous !== null,
      tenantId: tenant.id,
      keyId: key.id,
      scopes: key.scopes,
      visitorLimits,
    };
    return Response.json(session, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    throw readableBy(state.origin, error);
  }
};
