/**
 * The internal workers the gateway binds, from the worker manifest (infra/mesh/workers.json,
 * bundled): their names and binding names. `pnpm types` keeps wrangler.jsonc's services in step
 * with the same file, so every worker listed here is bound.
 */
import manifest from "@crispy/infra/mesh/workers.json";

export interface InternalWorker {
  name: string;
  binding: string;
}

const workers: Array<{ name: string; binding?: string; public?: boolean }> = manifest.workers;

export const INTERNAL_WORKERS: readonly InternalWorker[] = workers.flatMap(({ name, binding, public: isPublic }) =>
  isPublic || binding === undefined ? [] : [{ name, binding }],
);
