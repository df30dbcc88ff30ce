/**
 * Durable Object names, tenant id first (house rule): the TenantIndex of a tenant is named by its
 * id, so a request can only ever reach the index of the tenant it was resolved for.
 */
import type { TenantIndex } from "./tenant-index";

/** The TenantIndex `${tenantId}`. */
export function indexStub(env: RagEnv, tenantId: string): DurableObjectStub<TenantIndex> {
  return env.TENANT_INDEX.getByName(tenantId);
}
