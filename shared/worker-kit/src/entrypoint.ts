/**
 * The base of every internal worker's entrypoint. An internal worker (chat, rag, ingest, tools,
 * ratelimit) is reached only over service-binding RPC from the gateway or a sibling, so it has
 * no HTTP routes: its `fetch` answers 404 in the platform's error shape. Every one answers
 * `ping(tenant)` the same way, so the gateway's `/v1/mesh` and the shared contract test can
 * check the whole mesh. Inherited methods are callable over RPC like the subclass's own.
 *
 * A subclass declares its name (as in infra/mesh/workers.json) and its own RPC methods only.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { fail, ok, type RpcResult, type TenantContext } from "@crispy/contracts";
import { tenantProblem } from "./tenant";

export interface PingReply {
  worker: string;
  tenantId: string;
  requestId: string;
}

export abstract class InternalEntrypoint<Env = unknown> extends WorkerEntrypoint<Env> {
  /** The worker's short name: "chat", "rag", … (its service is `crispy-<worker>`). */
  protected abstract readonly worker: string;

  /** Proves the RPC path: echoes which tenant and request reached this worker. */
  async ping(tenant: TenantContext): Promise<RpcResult<PingReply>> {
    const problem = tenantProblem(tenant);
    if (problem) return fail("bad_request", problem);
    return ok({ worker: this.worker, tenantId: tenant.tenantId, requestId: tenant.requestId });
  }

  /** No HTTP surface: this worker is reached over RPC only. */
  override async fetch(): Promise<Response> {
    return Response.json(fail("not_found", `crispy-${this.worker} has no HTTP routes; use RPC`), { status: 404 });
  }
}
