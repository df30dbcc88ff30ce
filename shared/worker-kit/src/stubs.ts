/**
 * Durable Object names, tenant id first (house rule): `stubFor(ns, tenantId, ...parts)` is the
 * object `${tenantId}:${parts.join(":")}`, so one tenant's ids can only ever open objects whose
 * names start with its own id.
 */

/** The stub of the object named `[tenantId, ...parts].join(":")` in `namespace`. */
export function stubFor<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  tenantId: string,
  ...parts: string[]
): DurableObjectStub<T> {
  return namespace.getByName(parts.length === 0 ? tenantId : `${tenantId}:${parts.join(":")}`);
}
