/**
 * The version of each internal worker's RPC surface (docs/rpc-versioning.md). The gateway of one
 * release must work with internal workers one release older and one newer, so a surface only
 * grows: new methods, new optional fields. A version goes up by one with every change a caller
 * could rely on (a new method, a new optional field with an effect, a method deprecated or
 * removed); `contract()` reports it, infra/compat/rpc-contracts.snapshot.json records each
 * version's methods, and `pnpm test` fails when a worker's methods change without a bump.
 */
export const RPC_VERSIONS = {
  chat: 1,
  ingest: 1,
  rag: 1,
  ratelimit: 1,
  tools: 1,
} as const;

/** The internal workers (as in infra/mesh/workers.json); a new one needs its RPC_VERSIONS entry. */
export type RpcWorker = keyof typeof RPC_VERSIONS;

/**
 * Methods a worker still answers only for callers one release older: nothing in this release may
 * call them. A method can leave the surface (with a version bump) once a release has shipped it
 * deprecated, so no caller in the support window still calls it.
 */
export const RPC_DEPRECATED: { readonly [W in RpcWorker]?: readonly string[] } = {};
