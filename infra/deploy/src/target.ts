/**
 * What a deploy is aimed at, and the names that follow from it. One account can hold several
 * meshes side by side, each with its own workers and resources:
 *
 *   production            crispy-gateway, crispy-keys, crispy-documents, …  (the committed names)
 *   staging               crispy-gateway-staging, crispy-keys-staging, …
 *   production --tenant acme   crispy-gateway-acme, crispy-keys-acme, …  (a dedicated mesh)
 *   staging --tenant acme      crispy-gateway-acme-staging, …
 *
 * Every worker, service binding, D1 database, KV namespace, R2 bucket, Vectorize index and
 * Analytics Engine dataset of a mesh carries the same suffix, so two meshes never share state.
 */

export const DEPLOY_ENVS = ["staging", "production"] as const;
export type DeployEnv = (typeof DEPLOY_ENVS)[number];

export interface Target {
  env: DeployEnv;
  /** The tenant of a dedicated mesh, or null for the shared one. */
  tenant: string | null;
}

/** Cloudflare's limit for worker, bucket, database and index names that we stay within. */
const MAX_NAME = 63;
/** The tenant id pattern of shared/contracts (tenant-config.ts). */
const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

/** The target's key: the name of its state file and config folder under .deploy/. */
export function targetKey(target: Target): string {
  return target.tenant ? `${target.env}-${target.tenant}` : target.env;
}

/** What every name of the target's mesh ends with ("" for the shared production mesh). */
export function suffixOf(target: Target): string {
  return `${target.tenant ? `-${target.tenant}` : ""}${target.env === "staging" ? "-staging" : ""}`;
}

/** A worker or resource name of the target's mesh: the committed name plus the suffix. */
export function deployedName(name: string, target: Target): string {
  const deployed = `${name}${suffixOf(target)}`;
  if (deployed.length > MAX_NAME) {
    throw new Error(
      `"${deployed}" is longer than ${MAX_NAME} characters (Cloudflare's limit); use a shorter tenant id for a dedicated mesh`,
    );
  }
  return deployed;
}

/** An Analytics Engine dataset name (letters, digits and underscores) of the target's mesh. */
export function datasetName(name: string, target: Target): string {
  return `${name}${suffixOf(target).replaceAll("-", "_")}`;
}

/** Checks a tenant id given on the command line (the same pattern tenant configs must match). */
export function checkTenantId(id: string): string {
  if (!TENANT_ID.test(id)) throw new Error(`--tenant "${id}" is not a tenant id (1-48 lowercase letters, digits, -)`);
  return id;
}
