/**
 * A fake `wrangler` for infra/deploy's tests (put on PATH by test/deploy.integration.test.ts): an
 * account in a JSON file (FAKE_WRANGLER_STATE) with D1 databases, KV namespaces, R2 buckets,
 * Vectorize indexes, workers and their secrets, answering the commands infra/deploy runs in the
 * output format wrangler 4 prints (see src/wrangler-output.ts), and recording every call.
 *
 * It behaves like the real one where a mistake would show: creating what exists fails, `secret
 * list` of a worker never deployed fails with "not found", and `deploy` refuses a config whose D1
 * or KV id the account does not have, or a worker missing one of its `secrets.required` (wrangler's
 * own check). An unknown command exits 2, so the tool cannot call something the fake does not know.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { parse } = require("jsonc-parser");

const statePath = process.env.FAKE_WRANGLER_STATE;
if (!statePath) {
  console.error("fake wrangler: FAKE_WRANGLER_STATE is not set");
  process.exit(2);
}
const state = JSON.parse(readFileSync(statePath, "utf8"));
const args = process.argv.slice(2);
const stdin = process.stdin.isTTY ? "" : readFileSync(0, "utf8");
state.calls.push({ args, stdin: stdin.length > 0 ? stdin : undefined });

const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
const fail = (message, code = 1) => {
  save();
  console.error(`✘ [ERROR] ${message}`);
  process.exit(code);
};
const flag = (name) => {
  const inline = args.find((arg) => arg.startsWith(`--${name}=`));
  if (inline) return inline.slice(name.length + 3);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const json = (value) => console.log(JSON.stringify(value, null, 2));
const command = args.filter((arg) => !arg.startsWith("-")).slice(0, 3);
const is = (...words) => words.every((word, i) => command[i] === word);

function readDeployConfig() {
  const config = parse(readFileSync(flag("config"), "utf8"));
  const env = flag("env");
  if (env && !config.env?.[env]) fail(`no env "${env}" in ${flag("config")}`);
  return { top: config, block: env ? { ...config, ...config.env[env] } : config };
}

if (is("d1", "list")) json(state.d1);
else if (is("d1", "create")) {
  const name = command[2];
  if (state.d1.some((db) => db.name === name)) fail(`A database with that name already exists: ${name}`);
  state.d1.push({ uuid: randomUUID(), name, version: "production" });
  console.log(`✅ Successfully created DB '${name}'`);
} else if (is("kv", "namespace", "list")) json(state.kv);
else if (is("kv", "namespace", "create")) {
  const title = args[3];
  if (state.kv.some((ns) => ns.title === title)) fail(`A KV namespace with the title "${title}" already exists.`);
  state.kv.push({ id: randomUUID().replaceAll("-", ""), title, supports_url_encoding: true });
  console.log(`🌀 Creating namespace with title "${title}"`);
} else if (is("r2", "bucket", "list")) {
  console.log("Listing buckets...");
  console.log(state.r2.map((name) => `name:           ${name}\ncreation_date:  2026-01-01T00:00:00.000Z`).join("\n\n"));
} else if (is("r2", "bucket", "create")) {
  const name = args[3];
  if (state.r2.includes(name)) fail(`The bucket you tried to create already exists: ${name}`);
  state.r2.push(name);
  console.log(`✅ Created bucket '${name}'`);
} else if (is("vectorize", "list")) json(state.vectorize.map(({ metadataIndexes, ...index }) => index));
else if (is("vectorize", "create")) {
  const name = command[2];
  if (state.vectorize.some((index) => index.name === name)) fail(`index ${name} already exists`);
  const config = { dimensions: Number(flag("dimensions")), metric: flag("metric") };
  state.vectorize.push({ name, config, created_on: new Date().toISOString(), metadataIndexes: [] });
  console.log(`✅ Successfully created a new Vectorize index: '${name}'`);
} else if (is("vectorize", "list-metadata-index")) {
  const index = state.vectorize.find((candidate) => candidate.name === command[2]);
  if (!index) fail(`index ${command[2]} not found`);
  json(index.metadataIndexes);
} else if (is("vectorize", "create-metadata-index")) {
  const index = state.vectorize.find((candidate) => candidate.name === command[2]);
  if (!index) fail(`index ${command[2]} not found`);
  index.metadataIndexes.push({ propertyName: flag("propertyName"), indexType: flag("type") });
} else if (is("secret", "list")) {
  const worker = flag("name");
  if (!state.workers[worker]) {
    fail(`Worker "${worker}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`);
  }
  json(Object.keys(state.workers[worker].secrets).map((name) => ({ name, type: "secret_text" })));
} else if (is("secret", "put")) {
  const worker = flag("name");
  // Like wrangler, a secret for a worker not deployed yet creates it as a draft.
  state.workers[worker] ??= { secrets: {}, deployed: null };
  state.workers[worker].secrets[command[2]] = stdin;
} else if (is("d1", "migrations", "apply")) {
  const { block } = readDeployConfig();
  const db = (block.d1_databases ?? []).find((candidate) => candidate.database_name === args[3]);
  if (!db) fail(`no database ${args[3]} in ${flag("config")}`);
  if (!state.d1.some((candidate) => candidate.uuid === db.database_id)) fail(`no database with id ${db.database_id}`);
  if (!args.includes("--remote")) fail("migrations must be applied --remote");
  console.log(`Migrations applied to ${args[3]} from ${db.migrations_dir}`);
} else if (is("deploy")) {
  const { top, block } = readDeployConfig();
  for (const db of block.d1_databases ?? []) {
    if (!state.d1.some((candidate) => candidate.uuid === db.database_id && candidate.name === db.database_name))
      fail(`D1 ${db.database_name} ${db.database_id} is not on this account`);
  }
  for (const kv of block.kv_namespaces ?? []) {
    if (!state.kv.some((candidate) => candidate.id === kv.id)) fail(`KV namespace ${kv.id} is not on this account`);
  }
  for (const bucket of block.r2_buckets ?? []) {
    if (!state.r2.includes(bucket.bucket_name)) fail(`R2 bucket ${bucket.bucket_name} does not exist`);
  }
  const worker = state.workers[block.name] ?? { secrets: {}, deployed: null };
  const missing = (block.secrets?.required ?? []).filter((name) => !(name in worker.secrets));
  if (missing.length > 0) fail(`The following required secrets have not been set: ${missing.join(", ")}`);
  worker.deployed = {
    name: block.name,
    minify: top.minify === true,
    vars: block.vars ?? {},
    services: block.services ?? [],
    d1: block.d1_databases ?? [],
    kv: block.kv_namespaces ?? [],
    r2: block.r2_buckets ?? [],
    vectorize: block.vectorize ?? [],
  };
  state.workers[block.name] = worker;
  console.log(`Uploaded ${block.name}\nDeployed ${block.name} triggers`);
} else {
  fail(`fake wrangler does not know: wrangler ${args.join(" ")}`, 2);
}
save();
