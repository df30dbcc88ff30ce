/**
 * Provisioning as a pure function: given what the account already has (wrangler's list output,
 * parsed by wrangler-output.ts) and what the mesh needs (resources.ts), what to create. Running
 * the plan and listing again gives the ids the generated configs use; a second run plans nothing.
 */
import type { MetadataIndex, Resource } from "./resources";

export interface Listings {
  d1: Array<{ name: string; uuid: string }>;
  kv: Array<{ title: string; id: string }>;
  r2: string[];
  vectorize: Array<{ name: string; dimensions: number; metric: string }>;
  /** Metadata indexes of each existing Vectorize index the mesh uses, by index name. */
  metadataIndexes: Record<string, MetadataIndex[]>;
}

export interface Plan {
  create: Resource[];
  metadataIndexes: Array<{ index: string } & MetadataIndex>;
}

/** The account's resource ids a generated config needs: D1 by database name, KV by title. */
export interface Ids {
  d1: Record<string, string>;
  kv: Record<string, string>;
}

function exists(resource: Resource, listings: Listings): boolean {
  switch (resource.kind) {
    case "d1":
      return listings.d1.some((db) => db.name === resource.name);
    case "kv":
      return listings.kv.some((namespace) => namespace.title === resource.name);
    case "r2":
      return listings.r2.includes(resource.name);
    case "vectorize": {
      const index = listings.vectorize.find((candidate) => candidate.name === resource.name);
      if (!index) return false;
      // An index's dimensions and metric are fixed at creation; a mismatch is never fixed silently.
      if (index.dimensions !== resource.dimensions || index.metric !== resource.metric) {
        throw new Error(
          `Vectorize index ${resource.name} has ${index.dimensions} dimensions (${index.metric}), the tenants embed with ${resource.dimensions} (${resource.metric}): delete it (wrangler vectorize delete ${resource.name}) and deploy again, then re-ingest`,
        );
      }
      return true;
    }
  }
}

/** What to create so that every resource in `required` exists, given the account's `listings`. */
export function planProvisioning(required: Resource[], listings: Listings): Plan {
  const plan: Plan = { create: [], metadataIndexes: [] };
  for (const resource of required) {
    const present = exists(resource, listings);
    if (!present) plan.create.push(resource);
    if (resource.kind !== "vectorize") continue;
    const have = present ? (listings.metadataIndexes[resource.name] ?? []) : [];
    for (const wanted of resource.metadataIndexes) {
      const existing = have.find((index) => index.propertyName === wanted.propertyName);
      if (existing && existing.type !== wanted.type) {
        throw new Error(
          `Vectorize index ${resource.name}: metadata index ${wanted.propertyName} is ${existing.type}, expected ${wanted.type}`,
        );
      }
      if (!existing) plan.metadataIndexes.push({ index: resource.name, ...wanted });
    }
  }
  return plan;
}

/** The ids of the required D1 databases and KV namespaces; throws naming any still missing. */
export function idsOf(required: Resource[], listings: Listings): Ids {
  const ids: Ids = { d1: {}, kv: {} };
  const missing: string[] = [];
  for (const resource of required) {
    if (resource.kind === "d1") {
      const db = listings.d1.find((candidate) => candidate.name === resource.name);
      if (db) ids.d1[resource.name] = db.uuid;
      else missing.push(`D1 ${resource.name}`);
    } else if (resource.kind === "kv") {
      const namespace = listings.kv.find((candidate) => candidate.title === resource.name);
      if (namespace) ids.kv[resource.name] = namespace.id;
      else missing.push(`KV ${resource.name}`);
    }
  }
  if (missing.length > 0) throw new Error(`not found after provisioning: ${missing.join(", ")}`);
  return ids;
}

/** One line per planned step, for the log (and for --plan). */
export function describePlan(plan: Plan): string[] {
  return [
    ...plan.create.map((resource) => `create ${resource.kind} ${resource.name} (for ${resource.worker})`),
    ...plan.metadataIndexes.map(
      (index) => `create vectorize metadata index ${index.index}.${index.propertyName} (${index.type})`,
    ),
  ];
}
