/**
 * Worker configuration, parsed once with zod (its tree-shakable `zod/mini` build, a few KB in a
 * worker that has no other use for zod): each worker's `config.ts` declares a schema over
 * its env vars and reads them through `parseEnv`, never with `Number(env.X)` at a call site (a
 * `NaN` limit is a disabled limit). A bad or missing value throws a `ConfigError` naming the
 * worker, the variable, what it must be and what it was — on the first request the worker
 * serves, before any work — instead of silently switching a limit off.
 */
import * as z from "zod/mini";

/** A worker's configuration is invalid; the message says which variable and why. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The variables at fault (never their values, which may be secrets). */
  readonly variables: string[];

  constructor(message: string, variables: string[] = []) {
    super(message);
    this.variables = variables;
  }
}

const WHOLE = /^\d+$/;

/** An unset or empty variable reads as `fallback`; a string is trimmed. */
function unsetOr<T>(fallback: T | undefined) {
  return (value: unknown) => {
    if (value === undefined || (typeof value === "string" && value.trim() === "")) return fallback;
    return typeof value === "string" ? value.trim() : value;
  };
}

/** A whole number in [min, max]; `fallback` when the variable is unset or empty. */
export function envInt(options: { min?: number; max?: number; fallback?: number } = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, fallback } = options;
  return z.pipe(
    z.transform((value: unknown) => {
      const read = unsetOr(fallback)(value);
      return typeof read === "string" && WHOLE.test(read) ? Number(read) : read;
    }),
    z
      .number({ error: (issue) => (issue.input === undefined ? "is required" : "must be a whole number") })
      .check(
        z.int({ error: "must be a whole number" }),
        z.gte(min, { error: `must be at least ${min}` }),
        z.lte(max, { error: `must be at most ${max}` }),
      ),
  );
}

/** One of `values`; `fallback` when the variable is unset or empty. */
export function envEnum<const T extends readonly [string, ...string[]]>(values: T, fallback?: T[number]) {
  return z.pipe(
    z.transform(unsetOr(fallback)),
    z.enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(", ")}` }),
  );
}

/** A non-empty string, or undefined when unset or empty. */
export function envOptionalString() {
  return z.pipe(z.transform(unsetOr<string>(undefined)), z.optional(z.string()));
}

/** An http(s) URL, or undefined when unset or empty. */
export function envOptionalUrl(example: string) {
  return z.pipe(
    z.transform(unsetOr<string>(undefined)),
    z.optional(z.url({ protocol: /^https?$/, error: `must be an http(s) URL like ${example}` })),
  );
}

const cache = new WeakMap<z.ZodMiniType, WeakMap<object, unknown>>();

/**
 * The env parsed by `schema`, memoised per env object (the runtime hands a worker the same env
 * for its isolate's lifetime). Throws ConfigError: `crispy-<worker> configuration: VAR must … (got "…")`.
 */
export function parseEnv<S extends z.ZodMiniType>(worker: string, schema: S, env: object): z.output<S> {
  let byEnv = cache.get(schema);
  if (!byEnv) {
    byEnv = new WeakMap();
    cache.set(schema, byEnv);
  }
  if (byEnv.has(env)) return byEnv.get(env) as z.output<S>;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.map(String).join(".");
      const given = (env as Record<string, unknown>)[String(issue.path[0])];
      return `${name} ${issue.message}${given === undefined ? "" : ` (got ${JSON.stringify(given)})`}`;
    });
    const variables = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new ConfigError(`crispy-${worker} configuration: ${problems.join("; ")}`, variables);
  }
  byEnv.set(env, parsed.data);
  return parsed.data;
}
