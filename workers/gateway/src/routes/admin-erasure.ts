/**
 * Operator API for tenant erasure (docs/erasure.md): `DELETE /admin/tenants/:tenantId/data`
 * starts the erasure of everything the tenant has in the mesh — or answers the job there is —
 * and `GET /admin/tenants/:tenantId/data` reports its progress. Guarded like every operator route
 * (auth/operator.ts). The job is the tenant's TenantErasure object (erasure/tenant-erasure.ts).
 *
 * DELETE answers 202 with the job while it runs (a new one, a running one, a failed one resumed)
 * and 200 with a finished one, which it does not redo; `?again=true` starts a new job after a
 * finished one (a tenant id used again). `Location` names the status route.
 */
import { EraseTenantQuerySchema } from "@crispy/contracts";
import { stubFor } from "@crispy/worker-kit";
import { operatorTenantRoute } from "../auth/operator";
import { HttpError } from "../http/errors";
import { readQuery } from "../http/query";

export const eraseTenantData = operatorTenantRoute(async (request, env, _ctx, state) => {
  const { again } = readQuery(request, EraseTenantQuerySchema);
  const tenant = state.tenant!;
  const { job } = await stubFor(env.TENANT_ERASURE, tenant.id).start({
    config: tenant,
    requestId: state.requestId,
    traceId: state.trace.traceId,
    again: again === "true",
  });
  return Response.json(job, {
    status: job.state === "done" ? 200 : 202,
    headers: { location: `/admin/tenants/${tenant.id}/data` },
  });
});

export const tenantErasure = operatorTenantRoute(async (_request, env, _ctx, state) => {
  const tenant = state.tenant!;
  const job = await stubFor(env.TENANT_ERASURE, tenant.id).status();
  if (!job) throw new HttpError("not_found", `no erasure of tenant "${tenant.id}" has been started`);
  return job;
});
