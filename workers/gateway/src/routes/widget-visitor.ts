/**
 * A data route called by a web chat widget's visitor (docs/widget.md): `tenantRoute` hands a
 * request carrying a visitor token here. It is authenticated by its token (auth/visitor-auth.ts),
 * admitted by the visitor's, the publishable key's and the tenant's rates
 * (auth/visitor-limits.ts) and budgeted by the key's daily ceiling (the key's `limits`, through the
 * same per-key budget machinery as any key), then runs the route's own handler.
 *
 * Sessions are the visitor's own: a chat turn that names a `sessionId` needs that session's
 * ticket (`x-session-ticket`, auth/visitor-token.ts) — a visitor can continue only sessions it
 * started — and every reply that names a session carries its ticket.
 */
import { SESSION_TICKET_HEADER, type Scope } from "@crispy/contracts";
import { now } from "@crispy/observability";
import { readableBy } from "../auth/publishable-keys";
import { authenticateVisitor } from "../auth/visitor-auth";
import { enforceWidgetRateLimit, visitorSubject } from "../auth/visitor-limits";
import { sessionTicket, ticketMatches, type VisitorClaims } from "../auth/visitor-token";
import { configOf } from "../config";
import { readLimited } from "../http/body";
import { HttpError } from "../http/errors";
import { takeTimings, timedEnv, trackCalls } from "../http/timing";
import { type AuthenticatedState, tenantContext } from "../state";
import type { RouteArgs, TenantRequest } from "./handler";
import type { IRequest } from "itty-router";

/** The `sessionId` of a JSON body (read from a copy; the handler reads and validates the body itself), else null. */
async function sessionIdOf(request: Request, maxBytes: number): Promise<string | null> {
  if (!request.body) return null;
  const bytes = await readLimited(request.clone(), maxBytes);
  try {
    const body: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
    const sessionId = (body as Record<string, unknown>).sessionId;
    return typeof sessionId === "string" ? sessionId : null;
  } catch {
    return null;
  }
}

/** The reply with the ticket of the session it names (a stream's `x-session-id`, a JSON reply's `sessionId`). */
async function withTicket(result: unknown, secret: string, claims: VisitorClaims, state: AuthenticatedState) {
  if (result instanceof Response) {
    const sessionId = result.headers.get("x-session-id");
    if (sessionId) result.headers.set(SESSION_TICKET_HEADER, await sessionTicket(secret, claims, sessionId));
    return result;
  }
  const sessionId = (result as { sessionId?: unknown } | null)?.sessionId;
  if (typeof sessionId !== "string") return result;
  const response = Response.json(takeTimings(result, state.spans));
  response.headers.set(SESSION_TICKET_HEADER, await sessionTicket(secret, claims, sessionId));
  return response;
}

/** Runs `handler` for a visitor's request (see the header). */
export async function runVisitorRoute(
  scope: Scope | undefined,
  handler: (req: TenantRequest) => Promise<unknown> | unknown,
  request: IRequest,
  ...[env, ctx, state]: RouteArgs
): Promise<unknown> {
  const spans = state.spans;
  let started = now();
  let visitor: Awaited<ReturnType<typeof authenticateVisitor>>;
  try {
    visitor = await authenticateVisitor(request, env, state, scope);
  } catch (error) {
    throw readableBy(state.origin, error);
  } finally {
    spans?.end("auth", started);
  }
  const { authed, claims, secret } = visitor;
  const context = tenantContext(authed);
  const tenant = spans ? trackCalls(context, spans) : context;
  started = now();
  try {
    await enforceWidgetRateLimit(
      env,
      ctx,
      state,
      { ...tenant, keyId: authed.key.id },
      visitorSubject(authed.key.id, claims.visitorId),
      authed.key.publishable!.visitorLimits,
      "visitor",
    );
  } finally {
    spans?.end("admission", started);
  }
  if (request.method === "POST" && new URL(request.url).pathname === "/v1/chat") {
    const sessionId = await sessionIdOf(request, configOf(env).MAX_BODY_BYTES);
    const ticket = request.headers.get(SESSION_TICKET_HEADER);
    if (sessionId !== null && !(await ticketMatches(secret, claims, sessionId, ticket))) {
      throw new HttpError(
        "forbidden",
        `session "${sessionId.slice(0, 64)}" was not started by this visitor (its ${SESSION_TICKET_HEADER} is missing or wrong)`,
        { reason: "session_not_yours" },
      );
    }
  }
  const result = await handler({ request, env: spans ? timedEnv(env) : env, ctx, state: authed, tenant });
  return withTicket(result, secret, claims, authed);
}
