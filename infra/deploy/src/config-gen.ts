/**
 * The wrangler config a deploy runs with, generated from a worker's committed wrangler.jsonc into
 * the gitignored .deploy/<target>/ (the account's ids never reach a committed file):
 *
 * - the deploy block (`env.production`, else the top level) becomes `env.<target env>`, so wrangler
 *   itself applies its inheritance rules and the command is `wrangler deploy --env staging`;
 * - every name gets the target's suffix: the worker, its service bindings to mesh workers, D1
 *   databases, R2 buckets, Vectorize indexes, Analytics Engine datasets (target.ts);
 * - placeholder ids are replaced by the account's (D1 by database name, KV by title), except in a
 *   dry run, which has no account and keeps the committed placeholders;
 * - relative paths become absolute, since the file no longer sits beside the worker;
 * - `minify: true`: deploys ship minified bundles (the committed config stays readable for dev and
 *   tests; names are kept, wrangler's keep_names default);
 * - a dedicated mesh's gateway gets `TENANT_ID`, which pins it to that one tenant.
 */
import { isAbsolute, resolve } from "node:path";
import type { MeshWorker } from "@crispy/infra/mesh/manifest";
import type { Ids } from "./plan";
import { type Block, type Committed, kvTitleOf } from "./resources";
import { datasetName, deployedName, type Target } from "./target";

export interface GenerateOptions {
  target: Target;
  /** Every worker of the mesh (to tell a mesh service binding from any other). */
  mesh: MeshWorker[];
  /** The account's ids; null in a dry run (placeholders stay). */
  ids: Ids | null;
}

export interface Generated {
  config: Block;
  /** `--env` to pass to wrangler for this config, or null when it deploys its top level. */
  env: string | null;
  /** The deployed worker name. */
  name: string;
}

function absolute(dir: string, path: unknown): unknown {
  return typeof path === "string" && !isAbsolute(path) ? resolve(dir, path) : path;
}

function mapList(block: Block, key: string, map: (entry: Block) => Block): void {
  if (Array.isArray(block[key])) block[key] = (block[key] as Block[]).map((entry) => map({ ...entry }));
}

/**
 * Rewrites one block (top level or env) in place for the target. `strict`: every D1 database and
 * KV namespace must have an id (the deployed block); the top level of a worker deployed with
 * `--env` is never deployed, so its bindings may keep their placeholders.
 */
function rewriteBlock(block: Block, committed: Committed, options: GenerateOptions, strict: boolean): void {
  const { target, mesh, ids } = options;
  const idOf = (found: string | undefined, what: string, placeholder: unknown) =>
    strict ? required(found, what) : (found ?? placeholder);
  const dir = committed.worker.dir;
  const services = new Set(mesh.map((worker) => worker.service));
  if (typeof block.name === "string") block.name = deployedName(block.name, target);
  for (const key of ["main", "base_dir", "tsconfig"]) if (key in block) block[key] = absolute(dir, block[key]);
  if (block.assets && typeof block.assets === "object") {
    const assets = { ...(block.assets as Block) };
    assets.directory = absolute(dir, assets.directory);
    block.assets = assets;
  }
  if (block.build && typeof block.build === "object") {
    const build = { ...(block.build as Block) };
    // A build command runs in the config's folder unless told otherwise: keep it in the worker's.
    build.cwd = absolute(dir, build.cwd ?? ".");
    if (Array.isArray(build.watch_dir)) build.watch_dir = build.watch_dir.map((path) => absolute(dir, path));
    else if (build.watch_dir !== undefined) build.watch_dir = absolute(dir, build.watch_dir);
    block.build = build;
  }
  if (block.alias && typeof block.alias === "object") {
    block.alias = Object.fromEntries(
      Object.entries(block.alias as Record<string, string>).map(([from, to]) => [
        from,
        to.startsWith(".") ? resolve(dir, to) : to,
      ]),
    );
  }
  mapList(block, "services", (binding) => {
    if (services.has(String(binding.service))) binding.service = deployedName(String(binding.service), target);
    return binding;
  });
  mapList(block, "d1_databases", (db) => {
    const name = deployedName(String(db.database_name), target);
    db.database_name = name;
    if (ids) db.database_id = idOf(ids.d1[name], `D1 database ${name}`, db.database_id);
    db.migrations_dir = absolute(dir, db.migrations_dir ?? "migrations");
    delete db.preview_database_id;
    return db;
  });
  mapList(block, "kv_namespaces", (kv) => {
    const title = deployedName(kvTitleOf(String(kv.binding)), target);
    if (ids) kv.id = idOf(ids.kv[title], `KV namespace ${title}`, kv.id);
    delete kv.preview_id;
    return kv;
  });
  mapList(block, "r2_buckets", (bucket) => {
    bucket.bucket_name = deployedName(String(bucket.bucket_name), target);
    delete bucket.preview_bucket_name;
    return bucket;
  });
  mapList(block, "vectorize", (index) => {
    index.index_name = deployedName(String(index.index_name), target);
    return index;
  });
  mapList(block, "analytics_engine_datasets", (dataset) => {
    dataset.dataset = datasetName(String(dataset.dataset), target);
    return dataset;
  });
  if (block.durable_objects && typeof block.durable_objects === "object") {
    const objects = { ...(block.durable_objects as Block) };
    mapList(objects, "bindings", (binding) => {
      if (typeof binding.script_name === "string" && services.has(binding.script_name))
        binding.script_name = deployedName(binding.script_name, target);
      return binding;
    });
    block.durable_objects = objects;
  }
  if (committed.worker.public && target.tenant !== null) {
    block.vars = { ...((block.vars as Block | undefined) ?? {}), TENANT_ID: target.tenant };
  }
}

function required(id: string | undefined, what: string): string {
  if (!id) throw new Error(`no id for ${what}: provisioning did not create it`);
  return id;
}

/** The generated config of one worker for the target (pure: the committed file is not touched). */
export function generateConfig(committed: Committed, options: GenerateOptions): Generated {
  const raw = structuredClone(committed.raw);
  const envBlock = committed.named ? structuredClone(committed.block) : null;
  delete raw.$schema;
  delete raw.env;
  rewriteBlock(raw, committed, options, envBlock === null);
  raw.minify = true;
  if (envBlock) {
    rewriteBlock(envBlock, committed, options, true);
    raw.env = { [options.target.env]: envBlock };
  }
  const deployed = (envBlock ?? raw).name;
  return {
    config: raw,
    env: envBlock ? options.target.env : null,
    name: String(deployed),
  };
}

/** The text written to .deploy/<target>/<worker>.wrangler.jsonc (a comment, not a field wrangler would warn about). */
export function configText(generated: Generated, committed: Committed): string {
  return [
    `// Generated by \`pnpm run deploy\` from workers/${committed.worker.name}/wrangler.jsonc on every run; it holds`,
    "// the account's resource ids: never commit it (.deploy/ is gitignored).",
    JSON.stringify(generated.config, null, 2),
    "",
  ].join("\n");
}
