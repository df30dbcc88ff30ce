/**
 * pnpm run deploy — the mesh onto a Cloudflare account with wrangler's own commands (deploy.ts).
 *
 *   pnpm run deploy --dry-run [--worker W] [--tenant T] [--env E]   bundle + size check, offline
 *   pnpm run deploy --env staging|production [--worker W] [--tenant T]
 *
 * `pnpm deploy` (without `run`) is pnpm's own command, which copies a workspace package; the
 * script is reached with `pnpm run deploy`. Account access is wrangler's: CLOUDFLARE_API_TOKEN
 * and CLOUDFLARE_ACCOUNT_ID in the environment, or `wrangler login`. Secrets come from the
 * environment (OPERATOR_TOKEN, TOOLS_SECRET_KEY, …) or are asked for. Generated files go to the
 * gitignored .deploy/ (--out elsewhere). docs/deploy.md has the whole story.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { deployOrder, repoRoot, workerNamed } from "@crispy/infra/mesh/manifest";
import { type DeployContext, deploy, dryRun } from "./deploy";
import { checkTenantId, DEPLOY_ENVS, type DeployEnv, targetKey } from "./target";
import { Wrangler } from "./wrangler";

const USAGE = `usage: pnpm run deploy --env staging|production [--worker <name>] [--tenant <id>]
       pnpm run deploy --dry-run [--env …] [--worker <name>] [--tenant <id>]`;

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: "string" },
      worker: { type: "string" },
      tenant: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const dryRunOnly = values["dry-run"];
  if (values.env === undefined && !dryRunOnly) throw new Error(`--env is required for a deploy\n${USAGE}`);
  const env = (values.env ?? "production") as DeployEnv;
  if (!DEPLOY_ENVS.includes(env)) throw new Error(`--env must be ${DEPLOY_ENVS.join(" or ")}, not "${values.env}"`);
  const selected = values.worker ? [workerNamed(values.worker)] : deployOrder;
  return {
    dryRunOnly,
    target: { env, tenant: values.tenant === undefined ? null : checkTenantId(values.tenant) },
    selected,
    outDir: values.out ?? join(repoRoot, ".deploy"),
  };
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const log = (line: string) => console.log(line);
  const ctx: DeployContext = {
    repoRoot,
    outDir: options.outDir,
    target: options.target,
    mesh: deployOrder,
    selected: options.selected,
    wrangler: new Wrangler(repoRoot, log),
    log,
    env: process.env,
  };
  const what = `${options.selected.map((w) => w.name).join(", ")} → ${targetKey(options.target)}`;
  if (options.dryRunOnly) {
    log(`deploy --dry-run: bundling ${what} (no account, no network)`);
    const started = Date.now();
    const { over } = await dryRun(ctx);
    log(`bundled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (over.length > 0) throw new Error(`over budget (infra/deploy/budgets.json): ${over.join(", ")}`);
    return;
  }
  log(`deploy: ${what}`);
  await deploy(ctx);
  log("deploy: done");
}

main().catch((error: Error) => {
  console.error(`deploy: ${error.message}`);
  process.exit(1);
});
