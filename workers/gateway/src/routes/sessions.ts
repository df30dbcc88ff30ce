/**
 * Session routes: list (`GET /v1/sessions`), history (`GET /v1/sessions/:id`, seed alias
 * `GET /chat/:id/history`), delete (`DELETE /v1/sessions/:id`, seed alias `DELETE /chat/:id`) and
 * reset (`POST /v1/sessions/:id/reset`). Another tenant's session id is a plain 404.
 */
import { PageQuerySchema, SessionIdSchema } from "@crispy/contracts";
import { HttpError, unwrap } from "../http/errors";
import { pathParam } from "../http/params";
import { readQuery } from "../http/query";
import { tenantRoute } from "./handler";

function sessionIdOf(params: Record<string, string | undefined>): string {
  const id = pathParam(params, "sessionId") ?? "";
  if (!SessionIdSchema.safeParse(id).success)
    throw new HttpError("not_found", `session "${id.slice(0, 64)}" does not exist`);
  return id;
}

export const listSessions = tenantRoute("chat", async ({ request, env, tenant }) =>
  unwrap(await env.CHAT.listSessions(tenant, readQuery(request, PageQuerySchema))),
);

export const sessionHistory = tenantRoute("chat", async ({ request, env, tenant }) =>
  unwrap(await env.CHAT.history(tenant, sessionIdOf(request.params), readQuery(request, PageQuerySchema))),
);

export const deleteSession = tenantRoute("chat", async ({ request, env, tenant }) =>
  unwrap(await env.CHAT.deleteSession(tenant, sessionIdOf(request.params))),
);

export const resetSession = tenantRoute("chat", async ({ request, env, tenant }) =>
  unwrap(await env.CHAT.resetSession(tenant, sessionIdOf(request.params))),
);
