/**
 * The shape check for the TenantContext an RPC method receives first. Internal workers trust the
 * context's content (only the gateway can call them), but a caller with a bug must get a
 * `bad_request` value, not an uncaught TypeError.
 */
import type { TenantContext } from "@crispy/contracts";

const MAX_ID_CHARS = 128;

/** What is wrong with `tenant` as a TenantContext, or null when its shape is sound. */
export function tenantProblem(tenant: unknown): string | null {
  if (typeof tenant !== "object" || tenant === null) return "tenant context must be an object";
  const { tenantId, requestId, config } = tenant as Partial<TenantContext>;
  if (typeof tenantId !== "string" || tenantId.length === 0 || tenantId.length > MAX_ID_CHARS) {
    return "tenant context: tenantId must be a non-empty string";
  }
  if (typeof requestId !== "string" || requestId.length === 0 || requestId.length > MAX_ID_CHARS) {
    return "tenant context: requestId must be a non-empty string";
  }
  if (typeof config !== "object" || config === null || config.id !== tenantId) {
    return "tenant context: config must be the tenant's config";
  }
  return null;
}
