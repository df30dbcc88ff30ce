#!/usr/bin/env node
/**
 * `pnpm types` / `pnpm types:check` for one worker (run in workers/<name>, as each worker's
 * `types` and `types:check` scripts do):
 *
 *   1. its wrangler.jsonc `services` (the default env and every named env) are made to list exactly
 *      its callees from infra/mesh/workers.json (comments and layout kept; jsonc-parser edits), and
 *   2. `wrangler types --env-interface <Name>Env --include-runtime=false -c wrangler.jsonc
 *      -c ../<callee>/wrangler.jsonc …` regenerates worker-configuration.d.ts, with typed RPC stubs
 *      (`Service<typeof import("../<callee>/src/index").default>`) for each callee.
 *
 * With --check nothing is written: it fails when the services or the generated types have drifted.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { findNodeAtLocation, parse, parseTree } from "jsonc-parser";
import { repoRoot, servicesOf, workerNamed } from "./manifest.mjs";

const check = process.argv.includes("--check");
const worker = workerNamed(basename(process.cwd()));
const configFile = relative(repoRoot, worker.configPath);
let text = readFileSync(worker.configPath, "utf8");
const config = parse(text);

const problems = [];
if (config.name !== worker.service)
  problems.push(`${configFile}: "name" must be "${worker.service}", not ${JSON.stringify(config.name)}`);

const wanted = servicesOf(worker);
const same = (a, b) => JSON.stringify(a ?? []) === JSON.stringify(b);
const targets = [{ path: ["services"], label: "services", current: config.services }];
for (const [env, block] of Object.entries(config.env ?? {})) {
  targets.push({ path: ["env", env, "services"], label: `env.${env}.services`, current: block.services });
}
for (const target of targets) {
  if (
    same(
      target.current?.map(({ binding, service }) => ({ binding, service })),
      wanted,
    )
  )
    continue;
  if (check) {
    problems.push(
      `${configFile}: ${target.label} must be ${JSON.stringify(wanted)} (from infra/mesh/workers.json); run pnpm types`,
    );
    continue;
  }
  text = setServices(text, target.path, wanted);
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
if (!check && text !== readFileSync(worker.configPath, "utf8")) {
  writeFileSync(worker.configPath, text);
  console.log(`${configFile}: services set from infra/mesh/workers.json`);
}

/**
 * `source` with the array at `path` set to `services`, one `{ binding, service }` per line, or the
 * property removed when there are none. Edits only that property's text (comments and layout of the
 * rest stay as they are).
 */
function setServices(source, path, services) {
  const tree = parseTree(source);
  const indentAt = (offset) => /^[ \t]*/.exec(source.slice(source.lastIndexOf("\n", offset) + 1))[0];
  const render = (indent) =>
    `[\n${services.map((s) => `${indent}  { "binding": "${s.binding}", "service": "${s.service}" }`).join(",\n")}\n${indent}]`;
  const existing = findNodeAtLocation(tree, path);
  if (existing) {
    const property = existing.parent;
    if (services.length > 0) {
      return (
        source.slice(0, existing.offset) +
        render(indentAt(property.offset)) +
        source.slice(existing.offset + existing.length)
      );
    }
    const siblings = property.parent.children;
    const index = siblings.indexOf(property);
    const start = index > 0 ? siblings[index - 1].offset + siblings[index - 1].length : property.offset;
    return source.slice(0, start) + source.slice(property.offset + property.length + (index > 0 ? 0 : 1));
  }
  if (services.length === 0) return source;
  const parent = path.length === 1 ? tree : findNodeAtLocation(tree, path.slice(0, -1));
  const last = parent.children.at(-1);
  const indent = indentAt(last.offset);
  const end = last.offset + last.length;
  return `${source.slice(0, end)},\n${indent}"${path.at(-1)}": ${render(indent)}${source.slice(end)}`;
}

const args = ["types", "--env-interface", worker.envInterface, "--include-runtime=false", "-c", "wrangler.jsonc"];
for (const callee of worker.callees) args.push("-c", `../${callee}/wrangler.jsonc`);
if (check) args.push("--check");
try {
  execFileSync(join(repoRoot, "node_modules/.bin/wrangler"), args, { cwd: worker.dir, stdio: "inherit" });
} catch {
  process.exit(1);
}
