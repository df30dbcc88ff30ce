/**
 * The rag worker. Internal: only the gateway (and sibling workers) call it, over RPC, always with
 * the resolved TenantContext first. Its full surface arrives with its own issue; for now it
 * answers `ping` so the mesh can be checked end to end.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { ok, type RpcResult, type TenantContext } from "@crispy/contracts";

export interface PingReply {
  worker: "rag";
  tenantId: string;
  requestId: string;
}

export default class RagService extends WorkerEntrypoint<RagEnv> {
  /** Proves the RPC path: echoes which tenant and request reached this worker. */
  async ping(tenant: TenantContext): Promise<RpcResult<PingReply>> {
    return ok({ worker: "rag", tenantId: tenant.tenantId, requestId: tenant.requestId });
  }
}
