/**
 * The base of every internal worker's entrypoint. An internal worker (chat, rag, ingest, tools,
 * ratelimit) is reached only over service-binding RPC from the gateway or a sibling, so it has
 * no HTTP routes: its `fetch` answers 404 in the platform's error shape. Every one answers
 * `ping(tenant)` the same way, so the gateway's `/v1/mesh` and the shared contract test can
 * check the whole mesh. Inherited methods are callable over RPC like the subclass's own.
 *
 * A subclass declares its name (as in infra/mesh/workers.json) and its own RPC methods only; the
 * base guards every one of them (see `guardMethods`).
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import {
  fail,
  ok,
  RPC_DEPRECATED,
  RPC_VERSIONS,
  type RpcResult,
  type RpcWorker,
  type TenantContext,
} from "@crispy/contracts";
import { errorMessage } from "./util";
import { tenantProblem } from "./tenant";

export interface PingReply {
  worker: string;
  tenantId: string;
  requestId: string;
}

/**
 * What a worker's RPC surface is: its name, its RPC version (RPC_VERSIONS), the methods it
 * answers and which of those are deprecated (docs/rpc-versioning.md). The compatibility test
 * reads it from each release's bundles; a contract without `version` predates versioning (1).
 */
export interface RpcContract {
  worker: string;
  version: number;
  methods: string[];
  deprecated: string[];
}

/**
 * The methods the guard leaves as they are and contract() does not list: the base's, which every
 * worker has, and the runtime's event handlers (a `scheduled` cron handler takes the runtime's
 * controller, not a tenant context).
 */
const BASE_METHODS = new Set(["constructor", "fetch", "ping", "contract", "scheduled", "queue", "tail", "email"]);
const guarded = new WeakSet<object>();

/**
 * Every RPC method of a worker, guarded at the boundary once per class: a tenant context of the
 * wrong shape is a `bad_request` value, and an exception the method did not turn into a value
 * (a bug, or a hostile argument it did not check) becomes an `internal` value — or
 * `upstream_unavailable` when the runtime marks it retryable (an overloaded or restarting object)
 * — logged with the worker and method, instead of an uncaught exception across RPC.
 */
function guardMethods(instance: object): void {
  for (
    let proto = Object.getPrototypeOf(instance);
    proto && proto !== InternalEntrypoint.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (guarded.has(proto)) return;
    guarded.add(proto);
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (BASE_METHODS.has(name) || typeof descriptor?.value !== "function") continue;
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(proto, name, {
        ...descriptor,
        value: async function (this: unknown, tenant: unknown, ...args: unknown[]) {
          const problem = tenantProblem(tenant);
          if (problem) return fail("bad_request", problem);
          try {
            return await method.call(this, tenant, ...args);
          } catch (error) {
            const worker = (this as { worker?: string }).worker ?? "worker";
            const marks = error as { retryable?: unknown; overloaded?: unknown };
            const transient = marks?.retryable === true || marks?.overloaded === true;
            console.error(
              JSON.stringify({
                level: "error",
                event: "rpc_exception",
                tenantId: (tenant as TenantContext).tenantId,
                requestId: (tenant as TenantContext).requestId,
                worker,
                method: name,
                message: errorMessage(error),
              }),
            );
            return fail(
              transient ? "upstream_unavailable" : "internal",
              `crispy-${worker}.${name} failed${transient ? " (retry shortly)" : ""}; quote the request id when reporting it`,
            );
          }
        },
      });
    }
  }
}

export abstract class InternalEntrypoint<Env = unknown> extends WorkerEntrypoint<Env> {
  /** The worker's short name: "chat", "rag", … (its service is `crispy-<worker>`). */
  protected abstract readonly worker: RpcWorker;

  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, env);
    guardMethods(this);
  }

  /** Proves the RPC path: echoes which tenant and request reached this worker. */
  async ping(tenant: TenantContext): Promise<RpcResult<PingReply>> {
    const problem = tenantProblem(tenant);
    if (problem) return fail("bad_request", problem);
    return ok({ worker: this.worker, tenantId: tenant.tenantId, requestId: tenant.requestId });
  }

  /** The worker's RPC surface: its name, RPC version, own methods and deprecated ones. */
  async contract(): Promise<RpcContract> {
    const methods = new Set<string>();
    for (
      let proto = Object.getPrototypeOf(this);
      proto && proto !== InternalEntrypoint.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (!BASE_METHODS.has(name) && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === "function")
          methods.add(name);
      }
    }
    return {
      worker: this.worker,
      version: RPC_VERSIONS[this.worker],
      methods: [...methods].sort(),
      deprecated: [...(RPC_DEPRECATED[this.worker] ?? [])].sort(),
    };
  }

  /** No HTTP surface: this worker is reached over RPC only. */
  override async fetch(): Promise<Response> {
    return Response.json(fail("not_found", `crispy-${this.worker} has no HTTP routes; use RPC`), { status: 404 });
  }
}
