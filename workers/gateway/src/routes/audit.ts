/**
 * The audit log of administrative actions (docs/audit.md): `GET /v1/audit?limit&cursor&action`
 * (the caller's own tenant, `admin` scope) and the operator's `GET /admin/audit?tenant&limit&cursor&action`
 * (one tenant, or every tenant when `tenant` is left out). Newest first, paged by opaque cursors.
 */
import { AuditQuerySchema, OperatorAuditQuerySchema } from "@crispy/contracts";
import { tenantById } from "../auth/authenticate";
import { requireOperator } from "../auth/operator";
import { listAudit } from "../audit/store";
import { HttpError } from "../http/errors";
import { readQuery } from "../http/query";
import type { Handler } from "./handler";
import { tenantRoute } from "./handler";

export const tenantAudit = tenantRoute("admin", async ({ request, env, tenant }) => {
  const query = readQuery(request, AuditQuerySchema);
  return listAudit(env.KEYS_DB, { ...query, tenantId: tenant.tenantId });
});

export const operatorAudit: Handler = async (request, env, ctx, state) => {
  await requireOperator(request, env, ctx, state);
  const { tenant: tenantId, ...query } = readQuery(request, OperatorAuditQuerySchema);
  if (tenantId !== undefined) {
    // A tenant erased or no longer deployed still has its audit rows to read (tenant.erased).
    state.tenant = tenantById(tenantId);
    if (!state.tenant && (await listAudit(env.KEYS_DB, { tenantId, limit: 1 })).items.length === 0) {
      throw new HttpError("tenant_unknown", `tenant "${tenantId}" does not exist and has no audit rows`);
    }
  }
  return listAudit(env.KEYS_DB, { ...query, ...(tenantId !== undefined ? { tenantId } : {}) });
};
