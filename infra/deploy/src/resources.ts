/**
 * What a deploy needs, read from the committed configs: each worker's wrangler.jsonc (the block it
 * deploys, `env.production` when it has one, else the top level) and the tenants' configs (the
 * Vectorize index's dimensions). Nothing here talks to an account.
 *
 * Resource names are the committed ones plus the target's suffix (target.ts). A KV namespace has
 * no name in wrangler.jsonc (only a binding and a placeholder id), so its title is derived from
 * the binding: SEARCH_CACHE → crispy-search-cache.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { MeshWorker } from "@crispy/infra/mesh/manifest";
import { type ParseError, parse, printParseErrorCode } from "jsonc-parser";
import { deployedName, type Target } from "./target";

/** A wrangler config block (top level or one `env`), as loosely typed as the file itself. */
export type Block = Record<string, unknown>;

export interface Committed {
  worker: MeshWorker;
  /** The whole wrangler.jsonc. */
  raw: Block;
  /** The block a deploy uses. */
  block: Block;
  /** Whether that block is `env.production` (deployed with `--env <target env>`). */
  named: boolean;
}

export type Resource =
  | { kind: "d1"; name: string; worker: string; migrationsDir: string | null }
  | { kind: "kv"; name: string; worker: string }
  | { kind: "r2"; name: string; worker: string }
  | {
      kind: "vectorize";
      name: string;
      worker: string;
      dimensions: number;
      metric: "cosine";
      metadataIndexes: MetadataIndex[];
    };

export interface MetadataIndex {
  propertyName: string;
  type: "string" | "number" | "boolean";
}

/**
 * Metadata indexes per committed Vectorize index name: Vectorize filters only on indexed
 * properties, and rag's filters resolve to `docId` (workers/rag/src/vectors/vectorize.ts).
 */
export const METADATA_INDEXES: Record<string, MetadataIndex[]> = {
  "crispy-rag": [{ propertyName: "docId", type: "string" }],
};

export function parseJsonc(text: string, file: string): Block {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true });
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new Error(`${file}: ${printParseErrorCode(first.error)} at offset ${first.offset}`);
  }
  return value as Block;
}

/** A worker's committed wrangler.jsonc and the block its deploys use. */
export function readCommitted(worker: MeshWorker): Committed {
  const raw = parseJsonc(readFileSync(worker.configPath, "utf8"), worker.configPath);
  const production = (raw.env as Record<string, Block> | undefined)?.production;
  return { worker, raw, block: production ?? raw, named: production !== undefined };
}

/** The KV namespace title a binding's namespace has (before the target's suffix). */
export function kvTitleOf(binding: string): string {
  return `crispy-${binding.toLowerCase().replaceAll("_", "-")}`;
}

function list(block: Block, key: string): Block[] {
  const value = block[key];
  return Array.isArray(value) ? (value as Block[]) : [];
}

/** One embedding width for the Vectorize index: every served tenant must agree on it. */
export function embeddingDimensions(tenants: TenantEmbedding[]): number {
  const widths = new Set(tenants.map((tenant) => tenant.dimensions));
  if (widths.size !== 1) {
    const each = tenants.map((tenant) => `${tenant.id}: ${tenant.dimensions}`).join(", ");
    throw new Error(
      `one Vectorize index serves every tenant of a mesh, but their embedding dimensions differ (${each}); give a tenant with other dimensions its own mesh (--tenant)`,
    );
  }
  return [...widths][0]!;
}

export interface TenantEmbedding {
  id: string;
  dimensions: number;
}

/** Every tenant in tenants/<id>/tenant.config.json with its embedding dimensions. */
export function readTenants(repoRoot: string): TenantEmbedding[] {
  const dir = join(repoRoot, "tenants");
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "tenant.config.json")))
    .map((entry) => {
      const config = JSON.parse(readFileSync(join(dir, entry.name, "tenant.config.json"), "utf8")) as {
        id: string;
        ai: { embeddings: { dimensions: number } };
      };
      return { id: config.id, dimensions: config.ai.embeddings.dimensions };
    });
}

/** The tenants a target's mesh serves: one for a dedicated mesh (which must exist), else all. */
export function servedTenants(all: TenantEmbedding[], target: Target): TenantEmbedding[] {
  if (target.tenant === null) return all;
  const tenant = all.find((candidate) => candidate.id === target.tenant);
  if (!tenant) {
    throw new Error(
      `no tenant "${target.tenant}" in tenants/ (known: ${all.map((t) => t.id).join(", ")}); add tenants/${target.tenant}/tenant.config.json first`,
    );
  }
  return [tenant];
}

/**
 * Every resource the given workers' deploy blocks bind, named for the target, each once. Queues
 * are refused rather than skipped: the mesh has none (ingest runs on a Durable Object alarm), and
 * a binding this tool does not provision must not deploy half-configured.
 */
export function resourcesOf(committed: Committed[], target: Target, tenants: TenantEmbedding[]): Resource[] {
  const found = new Map<string, Resource>();
  const add = (resource: Resource) => found.set(`${resource.kind}:${resource.name}`, resource);
  for (const { worker, block } of committed) {
    if (block.queues !== undefined)
      throw new Error(`${worker.name}: "queues" are not provisioned by infra/deploy; add them to resources.ts first`);
    for (const db of list(block, "d1_databases")) {
      add({
        kind: "d1",
        name: deployedName(String(db.database_name), target),
        worker: worker.name,
        // wrangler's default folder is "migrations"; a database without one applies its schema from code.
        migrationsDir: existsSync(resolve(worker.dir, String(db.migrations_dir ?? "migrations")))
          ? resolve(worker.dir, String(db.migrations_dir ?? "migrations"))
          : null,
      });
    }
    for (const kv of list(block, "kv_namespaces")) {
      add({ kind: "kv", name: deployedName(kvTitleOf(String(kv.binding)), target), worker: worker.name });
    }
    for (const bucket of list(block, "r2_buckets")) {
      add({ kind: "r2", name: deployedName(String(bucket.bucket_name), target), worker: worker.name });
    }
    for (const index of list(block, "vectorize")) {
      const committedName = String(index.index_name);
      add({
        kind: "vectorize",
        name: deployedName(committedName, target),
        worker: worker.name,
        dimensions: embeddingDimensions(tenants),
        metric: "cosine",
        metadataIndexes: METADATA_INDEXES[committedName] ?? [],
      });
    }
  }
  return [...found.values()];
}

/** The secrets a worker's deploy block requires (`secrets.required`). */
export function requiredSecretsOf(committed: Committed): string[] {
  const secrets = committed.block.secrets as { required?: unknown } | undefined;
  return Array.isArray(secrets?.required) ? secrets.required.map(String) : [];
}
