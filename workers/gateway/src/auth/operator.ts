/**
 * The operator API's guard: the request is rate-limited per client IP (OPERATOR_RATE_*, its own
 * namespace) before the token is even compared — so the OPERATOR_TOKEN secret cannot be
 * brute-forced — then needs `Authorization: Bearer <OPERATOR_TOKEN>` (compared in constant time).
 */
import type { TenantConfig } from "@crispy/contracts";
import { tenantsById } from "@crispy/tenants";
import { sha256 } from "@crispy/worker-kit/util";
import { configOf } from "../config";
import { HttpError } from "../http/errors";
import { pathParam } from "../http/params";
import { enforceRateLimit, operatorContext } from "../limits";
import type { Handler } from "../routes/handler";
import type { RequestState } from "../state";
import { tenantById } from "./authenticate";

async function presentsToken(request: Request, token: string | undefined): Promise<boolean> {
  if (!token) throw new HttpError("forbidden", "operator API is disabled: the OPERATOR_TOKEN secret is not set");
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!presented) return false;
  return crypto.subtle.timingSafeEqual(await sha256(presented), await sha256(token));
}

/**
 * Admits an operator request or throws (429 over the IP's limit, 401 without the token). `tenant`
 * is the tenant the call is about, if one; the limit is the operator's either way.
 */
export async function requireOperator(
  request: Request,
  env: GatewayEnv,
  ctx: ExecutionContext,
  state: RequestState,
  tenant?: TenantConfig,
): Promise<void> {
  const template = tenant ?? Object.values(tenantsById)[0];
  if (!template) throw new Error("the gateway has no tenants");
  await enforceRateLimit(env, ctx, state, operatorContext(env, state, template), { kind: "ip", id: state.clientIp });
  if (!(await presentsToken(request, configOf(env).OPERATOR_TOKEN))) {
    throw new HttpError("unauthorized", "operator token required: Authorization: Bearer <OPERATOR_TOKEN>", undefined, {
      "www-authenticate": "Bearer",
    });
  }
}

/** An operator route on `/admin/tenants/:tenantId/…`: 404 for an unknown tenant, then the guard; `state.tenant` is the tenant. */
export function operatorTenantRoute(handler: Handler): Handler {
  return async (request, env, ctx, state) => {
    const id = pathParam(request.params, "tenantId") ?? "";
    const tenant = tenantById(id);
    if (!tenant) throw new HttpError("tenant_unknown", `tenant "${id.slice(0, 64)}" does not exist`);
    await requireOperator(request, env, ctx, state, tenant);
    state.tenant = tenant;
    return handler(request, env, ctx, state);
  };
}
