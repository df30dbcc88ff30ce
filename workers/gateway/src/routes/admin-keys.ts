/**
 * Operator API for API keys: `POST|GET /admin/tenants/:tenantId/keys`,
 * `DELETE /admin/tenants/:tenantId/keys/:keyId`. Guarded by the OPERATOR_TOKEN secret and
 * rate-limited per client IP (so the token cannot be brute-forced). Never returns a stored key:
 * the key is in the creation response only.
 */
import { CreateKeyBodySchema } from "@crispy/contracts";
import { sha256 } from "@crispy/worker-kit/util";
import { createKey, listKeys, revokeKey } from "../auth/api-keys";
import { tenantById } from "../auth/authenticate";
import { forgetKey } from "../auth/key-cache";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { pathParam } from "../http/params";
import { HttpError } from "../http/errors";
import { enforceRateLimit, operatorContext } from "../limits";
import type { Handler } from "./handler";

async function isOperator(request: Request, token: string | undefined): Promise<boolean> {
  if (!token) throw new HttpError("forbidden", "operator API is disabled: the OPERATOR_TOKEN secret is not set");
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!presented) return false;
  return crypto.subtle.timingSafeEqual(await sha256(presented), await sha256(token));
}

function operatorRoute(handler: Handler): Handler {
  return async (request, env, ctx, state) => {
    const tenant = tenantById(pathParam(request.params, "tenantId") ?? "");
    if (!tenant)
      throw new HttpError(
        "tenant_unknown",
        `tenant "${(pathParam(request.params, "tenantId") ?? "").slice(0, 64)}" does not exist`,
      );
    await enforceRateLimit(env, ctx, state, operatorContext(env, state, tenant), { kind: "ip", id: state.clientIp });
    if (!(await isOperator(request, configOf(env).OPERATOR_TOKEN))) {
      throw new HttpError(
        "unauthorized",
        "operator token required: Authorization: Bearer <OPERATOR_TOKEN>",
        undefined,
        { "www-authenticate": "Bearer" },
      );
    }
    state.tenant = tenant;
    return handler(request, env, ctx, state);
  };
}

export const createTenantKey = operatorRoute(async (request, env, _ctx, state) => {
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, CreateKeyBodySchema);
  const created = await createKey(env.KEYS_DB, state.tenant!.id, body);
  return Response.json(created, { status: 201 });
});

export const listTenantKeys = operatorRoute(async (_request, env, _ctx, state) => ({
  keys: await listKeys(env.KEYS_DB, state.tenant!.id),
}));

export const revokeTenantKey = operatorRoute(async (request, env, _ctx, state) => {
  const revoked = await revokeKey(env.KEYS_DB, state.tenant!.id, pathParam(request.params, "keyId") ?? "");
  if (!revoked)
    throw new HttpError(
      "not_found",
      `tenant "${state.tenant!.id}" has no key "${(pathParam(request.params, "keyId") ?? "").slice(0, 64)}"`,
    );
  forgetKey(revoked.id);
  return revoked;
});
