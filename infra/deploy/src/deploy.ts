/**
 * The two runs of `pnpm run deploy`:
 *
 * dryRun  generates each worker's config (placeholder ids), bundles it with
 *         `wrangler deploy --dry-run --outdir` and checks the sizes against budgets.json. No
 *         account, no network.
 * deploy  1. secrets: what each worker requires and does not have yet must come from the
 *            environment or the terminal — checked before anything changes;
 *         2. provisioning: list the account's D1, KV, R2 and Vectorize resources, create what the
 *            mesh lacks (and Vectorize metadata indexes), list again for the ids;
 *         3. the generated configs (.deploy/<target>/) and the state file (.deploy/<target>.json);
 *         4. D1 migrations (`wrangler d1 migrations apply --remote`);
 *         5. per worker, callees before callers: `wrangler secret put` (stdin), `wrangler deploy`.
 * Every step is idempotent: a second run lists, finds everything, creates nothing.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshWorker } from "@crispy/infra/mesh/manifest";
import { withBuildLock } from "./build-lock";
import { configText, type Generated, generateConfig } from "./config-gen";
import { describePlan, type Ids, idsOf, type Listings, planProvisioning } from "./plan";
import {
  type Committed,
  readCommitted,
  readTenants,
  requiredSecretsOf,
  type Resource,
  resourcesOf,
  servedTenants,
} from "./resources";
import { canPrompt, checkSecret, promptHidden, secretHint } from "./secrets";
import { type BundleSize, checkBudgets, measureBundle, readBudgets } from "./sizes";
import { type Target, targetKey } from "./target";
import type { Wrangler } from "./wrangler";
import {
  parseD1List,
  parseKvList,
  parseMetadataIndexes,
  parseR2List,
  parseSecretList,
  parseVectorizeList,
} from "./wrangler-output";

export interface DeployContext {
  repoRoot: string;
  /** Where generated files go (.deploy/ of the repo). */
  outDir: string;
  target: Target;
  /** Every worker of the mesh, and those to deploy, both in deploy order. */
  mesh: MeshWorker[];
  selected: MeshWorker[];
  wrangler: Wrangler;
  log: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Prepared {
  committed: Committed;
  generated: Generated;
  configPath: string;
}

function targetDir(ctx: DeployContext): string {
  return join(ctx.outDir, targetKey(ctx.target));
}

/** Generates and writes every selected worker's config for the target. */
function prepare(ctx: DeployContext, ids: Ids | null): Prepared[] {
  const dir = targetDir(ctx);
  mkdirSync(dir, { recursive: true });
  return ctx.selected.map((worker) => {
    const committed = readCommitted(worker);
    const generated = generateConfig(committed, { target: ctx.target, mesh: ctx.mesh, ids });
    const configPath = join(dir, `${worker.name}.wrangler.jsonc`);
    writeFileSync(configPath, configText(generated, committed));
    return { committed, generated, configPath };
  });
}

function envArgs(prepared: Prepared): string[] {
  return ["--config", prepared.configPath, ...(prepared.generated.env ? ["--env", prepared.generated.env] : [])];
}

/** Bundles every selected worker and checks its size; resolves with the sizes and the workers over budget. */
export async function dryRun(ctx: DeployContext): Promise<{ sizes: BundleSize[]; over: string[] }> {
  const sizes: BundleSize[] = [];
  for (const prepared of prepare(ctx, null)) {
    const outdir = join(targetDir(ctx), "bundles", prepared.committed.worker.name);
    rmSync(outdir, { recursive: true, force: true });
    await withBuildLock(prepared.committed.worker.dir, () =>
      ctx.wrangler.ok(["deploy", "--dry-run", "--outdir", outdir, ...envArgs(prepared)], { capture: true }),
    );
    sizes.push(measureBundle(prepared.committed.worker.name, outdir));
  }
  const { lines, over } = checkBudgets(sizes, readBudgets(join(ctx.repoRoot, "infra/deploy/budgets.json")));
  for (const line of lines) ctx.log(line);
  return { sizes, over };
}

async function listAccount(ctx: DeployContext, required: Resource[]): Promise<Listings> {
  const w = ctx.wrangler;
  const kinds = new Set(required.map((resource) => resource.kind));
  const listings: Listings = { d1: [], kv: [], r2: [], vectorize: [], metadataIndexes: {} };
  if (kinds.has("d1")) listings.d1 = parseD1List(await w.ok(["d1", "list", "--json"], { capture: true }));
  if (kinds.has("kv")) listings.kv = parseKvList(await w.ok(["kv", "namespace", "list"], { capture: true }));
  if (kinds.has("r2")) listings.r2 = parseR2List(await w.ok(["r2", "bucket", "list"], { capture: true }));
  if (kinds.has("vectorize")) {
    listings.vectorize = parseVectorizeList(await w.ok(["vectorize", "list", "--json"], { capture: true }));
    for (const resource of required) {
      if (resource.kind !== "vectorize" || !listings.vectorize.some((index) => index.name === resource.name)) continue;
      listings.metadataIndexes[resource.name] = parseMetadataIndexes(
        await w.ok(["vectorize", "list-metadata-index", resource.name, "--json"], { capture: true }),
      );
    }
  }
  return listings;
}

function createArgs(resource: Resource): string[] {
  switch (resource.kind) {
    case "d1":
      return ["d1", "create", resource.name];
    case "kv":
      return ["kv", "namespace", "create", resource.name];
    case "r2":
      return ["r2", "bucket", "create", resource.name];
    case "vectorize":
      return [
        "vectorize",
        "create",
        resource.name,
        `--dimensions=${resource.dimensions}`,
        `--metric=${resource.metric}`,
      ];
  }
}

/** Lists, creates what is missing, lists again; the ids of the mesh's D1 databases and KV namespaces. */
async function provision(ctx: DeployContext, required: Resource[]): Promise<Ids> {
  let listings = await listAccount(ctx, required);
  const plan = planProvisioning(required, listings);
  const steps = describePlan(plan);
  ctx.log(steps.length === 0 ? "provisioning: every resource exists" : `provisioning:\n  ${steps.join("\n  ")}`);
  for (const resource of plan.create) await ctx.wrangler.ok(createArgs(resource), { capture: true });
  for (const index of plan.metadataIndexes) {
    await ctx.wrangler.ok(
      [
        "vectorize",
        "create-metadata-index",
        index.index,
        `--propertyName=${index.propertyName}`,
        `--type=${index.type}`,
      ],
      { capture: true },
    );
  }
  if (plan.create.some((resource) => resource.kind === "d1" || resource.kind === "kv"))
    listings = await listAccount(
      ctx,
      required.filter((resource) => resource.kind === "d1" || resource.kind === "kv"),
    );
  return idsOf(required, listings);
}

/**
 * The secret values to put, per deployed worker name: those given in the environment, and those
 * the worker lacks (asked for on a terminal). Throws before anything changes when one is missing
 * and cannot be asked for.
 */
async function gatherSecrets(ctx: DeployContext, workers: Prepared[]): Promise<Map<string, Map<string, string>>> {
  const values = new Map<string, Map<string, string>>();
  const missing: string[] = [];
  for (const prepared of workers) {
    const names = requiredSecretsOf(prepared.committed);
    if (names.length === 0) continue;
    const worker = prepared.generated.name;
    const listed = await ctx.wrangler.run(["secret", "list", "--name", worker, "--format", "json"], { capture: true });
    // A worker not deployed yet has no secrets ("not found"); anything else is a real failure.
    if (listed.code !== 0 && !/not found|does not exist|10007/i.test(`${listed.stdout}${listed.stderr}`))
      throw new Error(`wrangler secret list --name ${worker} failed:\n${listed.stderr.trim()}`);
    const existing = listed.code === 0 ? parseSecretList(listed.stdout) : [];
    const put = new Map<string, string>();
    for (const name of names) {
      const given = ctx.env[name];
      if (given !== undefined && given !== "") put.set(name, checkSecret(name, given));
      else if (existing.includes(name)) continue;
      else if (canPrompt()) put.set(name, checkSecret(name, await promptHidden(`${worker} needs ${name}: `)));
      else missing.push(`${name} (for ${worker}; ${secretHint(name)})`);
    }
    if (put.size > 0) values.set(worker, put);
  }
  if (missing.length > 0) {
    throw new Error(
      `secrets not set and no terminal to ask on; set them in the environment: ${missing.join(", ")}. Nothing was changed.`,
    );
  }
  return values;
}

/** The full deploy of the selected workers to the target. */
export async function deploy(ctx: DeployContext): Promise<void> {
  const committed = ctx.selected.map(readCommitted);
  const tenants = servedTenants(readTenants(ctx.repoRoot), ctx.target);
  const required = resourcesOf(committed, ctx.target, tenants);
  // Names and secrets first: a bad tenant id or a missing secret stops the run before any change.
  const secrets = await gatherSecrets(ctx, prepare(ctx, null));
  const ids = await provision(ctx, required);
  const prepared = prepare(ctx, ids);
  writeFileSync(
    join(ctx.outDir, `${targetKey(ctx.target)}.json`),
    `${JSON.stringify(
      {
        $comment:
          "Written by pnpm run deploy: this account's resource ids for the target (never commit; .deploy/ is gitignored). The account is the source of truth: every run lists it again.",
        target: ctx.target,
        workers: Object.fromEntries(prepared.map((p) => [p.committed.worker.name, p.generated.name])),
        resources: required.map((resource) => ({
          kind: resource.kind,
          name: resource.name,
          ...(resource.kind === "d1" ? { id: ids.d1[resource.name] } : {}),
          ...(resource.kind === "kv" ? { id: ids.kv[resource.name] } : {}),
        })),
        updatedAt: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  for (const p of prepared) {
    for (const db of required) {
      if (db.kind !== "d1" || db.worker !== p.committed.worker.name || db.migrationsDir === null) continue;
      await ctx.wrangler.ok(["d1", "migrations", "apply", db.name, "--remote", ...envArgs(p)]);
    }
  }
  for (const p of prepared) {
    for (const [name, value] of secrets.get(p.generated.name) ?? []) {
      await ctx.wrangler.ok(["secret", "put", name, "--name", p.generated.name], { capture: true, input: value });
    }
    await ctx.wrangler.ok(["deploy", ...envArgs(p)]);
    ctx.log(`deployed ${p.generated.name}`);
  }
}
