/**
 * The gateway: the mesh's only public worker. It owns the API-key database (D1 `KEYS_DB`) and the
 * tenant erasure jobs (TenantErasure `${tenantId}`, erasure/tenant-erasure.ts); every tenant's
 * data lives behind the internal workers it calls over RPC.
 * Invariants: no data route runs without a key that belongs to the resolved tenant; every
 * response carries `x-request-id`; every failure has the one JSON error shape.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { handle } from "./app";
import { TenantErasure } from "./erasure/tenant-erasure";

export { TenantErasure };

export default class Gateway extends WorkerEntrypoint<GatewayEnv> {
  /** Public HTTP entry. */
  override async fetch(request: Request): Promise<Response> {
    return handle(request, this.env, this.ctx);
  }
}
