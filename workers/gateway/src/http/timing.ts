/**
 * The gateway's spans and its `Server-Timing` header (docs/observability.md). A request's spans
 * live on its RequestState (`spans`, null when TRACING is "off"): `auth` and `admission` are
 * timed around those steps (routes/handler.ts); each RPC call to an internal worker is timed by
 * the env a data route's handler gets (`timedEnv`), under the worker's name (`chat`, `rag`,
 * `ingest`, `tools`); the callee's own spans (`model`, `ttft`, `retrieve`, `tool` …) come back in
 * its reply's optional `timings` field, which the app moves into the header (`takeTimings`), so
 * clients never see that field in a body.
 *
 * The timed env is made once per isolate (a per-request copy would defeat every cache keyed by
 * the env, such as the parsed configuration), so a call finds its request's spans through its
 * first argument: every RPC method takes the request's TenantContext first, and the data route
 * registers that context with its spans (`trackCalls`). A call whose context is not registered
 * (an operator route, a background lease) is not timed. The ratelimit worker's calls are not
 * timed here: their lease calls also run off the response path, where they would be charged to
 * whichever request last used the pool; rate-limit admission is the `admission` span instead.
 */
import { now, type Spans } from "@crispy/observability";

declare module "../state" {
  interface RequestState {
    /** The request's spans for Server-Timing; null when TRACING is "off". */
    spans?: Spans | null;
  }
}

/** The internal workers whose RPC calls are timed, by binding: the span is the worker's name. */
const TIMED_BINDINGS = { CHAT: "chat", RAG: "rag", INGEST: "ingest", TOOLS: "tools" } as const;

const spansOfCall = new WeakMap<object, Spans>();

/** Times the RPC calls made with `tenant` (a data route's context) into `spans`. */
export function trackCalls<T extends object>(tenant: T, spans: Spans): T {
  spansOfCall.set(tenant, spans);
  return tenant;
}

/** A service binding whose method calls are timed into the spans of the context they carry. */
function timedService<S extends object>(service: S, span: string): S {
  return new Proxy(service, {
    get(target, method) {
      const value = Reflect.get(target, method);
      if (typeof value !== "function" || typeof method === "symbol" || method === "then") return value;
      // Called on the stub itself: an RPC method stub's own `apply`/`call` are remote methods too.
      return (...args: unknown[]) => {
        const first = args[0];
        const spans = typeof first === "object" && first !== null ? spansOfCall.get(first) : undefined;
        const call = (target as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
        if (!spans) return call;
        const started = now();
        return Promise.resolve(call).then(
          (result) => {
            spans.end(span, started);
            return result;
          },
          (error: unknown) => {
            spans.end(span, started);
            throw error;
          },
        );
      };
    },
  });
}

const timedEnvs = new WeakMap<GatewayEnv, GatewayEnv>();

/** `env` with the internal workers' bindings timed; made once per env (isolate). */
export function timedEnv(env: GatewayEnv): GatewayEnv {
  let timed = timedEnvs.get(env);
  if (!timed) {
    timed = Object.create(env) as GatewayEnv;
    for (const [binding, span] of Object.entries(TIMED_BINDINGS)) {
      const service = (env as unknown as Record<string, object | undefined>)[binding];
      if (service) Object.defineProperty(timed, binding, { value: timedService(service, span), enumerable: true });
    }
    timedEnvs.set(env, timed);
  }
  return timed;
}

/**
 * A route's JSON result without its RPC `timings` (merged into `spans` when tracing). Always
 * removed, so a body never carries it even when only the gateway has tracing off.
 */
export function takeTimings(result: unknown, spans: Spans | null | undefined): unknown {
  if (typeof result === "object" && result !== null && "timings" in result) {
    const record = result as { timings?: unknown };
    spans?.merge(record.timings);
    delete record.timings;
  }
  return result;
}

/** The `Server-Timing` value of a request: its spans and `total`, or only `total` without tracing. */
export function serverTimingOf(spans: Spans | null | undefined, totalMs: number): string {
  return spans ? spans.serverTiming(totalMs) : `total;dur=${totalMs}`;
}
