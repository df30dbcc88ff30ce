/**
 * The worker manifest (workers.json), checked and with what follows from it. Every tool that
 * needs the list of workers reads it here: `pnpm dev`, `pnpm types` (types.mjs), the miniflare
 * options of the tests and `pnpm bench` (worker-options.mjs, bench/mesh.mjs), and the gateway
 * (its GET /v1/mesh, through the JSON itself).
 *
 * Rules: names are kebab-case and unique; the package is workers/<name>, the service
 * `crispy-<name>`, the env interface `<Name>Env`. Exactly one worker is public (the gateway); it
 * binds every internal worker. An internal worker has a SCREAMING_SNAKE binding and lists the
 * internal workers it calls; calls form no cycle.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const manifestPath = join(repoRoot, "infra/mesh/workers.json");

/**
 * @typedef {{ name: string, service: string, binding: string | null, public: boolean,
 *   callees: string[], dir: string, configPath: string, envInterface: string }} MeshWorker
 */

/** @returns {MeshWorker[]} every worker, public first, then in manifest order. */
function load() {
  const raw = JSON.parse(readFileSync(manifestPath, "utf8"));
  const problems = [];
  const entries = Array.isArray(raw.workers) ? raw.workers : [];
  if (entries.length === 0) problems.push('"workers" must list the workers');
  const names = new Set();
  const bindings = new Set();
  for (const entry of entries) {
    const name = entry?.name;
    if (typeof name !== "string" || !/^[a-z][a-z0-9-]*$/.test(name))
      problems.push(`bad worker name ${JSON.stringify(name)}`);
    if (names.has(name)) problems.push(`worker "${name}" is listed twice`);
    names.add(name);
    if (entry.public === true) continue;
    if (typeof entry.binding !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(entry.binding))
      problems.push(`worker "${name}": binding must be SCREAMING_SNAKE`);
    if (bindings.has(entry.binding)) problems.push(`binding "${entry.binding}" is used twice`);
    bindings.add(entry.binding);
  }
  const publics = entries.filter((entry) => entry?.public === true);
  if (publics.length !== 1) problems.push(`exactly one worker must be public, found ${publics.length}`);
  const internal = entries.filter((entry) => entry?.public !== true).map((entry) => entry.name);
  for (const entry of entries) {
    if (entry.public === true) continue;
    for (const callee of entry.callees ?? []) {
      if (!internal.includes(callee))
        problems.push(`worker "${entry.name}" calls "${callee}", which is not an internal worker`);
    }
  }
  if (problems.length > 0) throw new Error(`infra/mesh/workers.json: ${problems.join("; ")}`);
  const workers = [...publics, ...entries.filter((entry) => entry.public !== true)].map((entry) => ({
    name: entry.name,
    service: `crispy-${entry.name}`,
    binding: entry.public === true ? null : entry.binding,
    public: entry.public === true,
    callees: entry.public === true ? internal : [...(entry.callees ?? [])],
    dir: join(repoRoot, "workers", entry.name),
    configPath: join(repoRoot, "workers", entry.name, "wrangler.jsonc"),
    envInterface: `${entry.name.replace(/(^|-)([a-z])/g, (_, _dash, c) => c.toUpperCase())}Env`,
  }));
  deployOrderOf(workers); // throws on a cycle
  return workers;
}

/** Callees before callers (the order to deploy in); throws on a cycle. */
function deployOrderOf(workers) {
  const byName = new Map(workers.map((w) => [w.name, w]));
  const order = [];
  const state = new Map();
  const visit = (worker, path) => {
    if (state.get(worker.name) === "done") return;
    if (state.get(worker.name) === "visiting")
      throw new Error(`infra/mesh/workers.json: calls form a cycle: ${[...path, worker.name].join(" → ")}`);
    state.set(worker.name, "visiting");
    for (const callee of worker.callees) visit(byName.get(callee), [...path, worker.name]);
    state.set(worker.name, "done");
    order.push(worker);
  };
  for (const worker of workers) visit(worker, []);
  return order;
}

export const meshWorkers = load();
export const publicWorker = meshWorkers.find((w) => w.public);
export const internalWorkers = meshWorkers.filter((w) => !w.public);
export const deployOrder = deployOrderOf(meshWorkers);

/** The worker named `name`; throws naming the known ones otherwise. */
export function workerNamed(name) {
  const worker = meshWorkers.find((w) => w.name === name);
  if (!worker)
    throw new Error(
      `no worker "${name}" in infra/mesh/workers.json (known: ${meshWorkers.map((w) => w.name).join(", ")})`,
    );
  return worker;
}

/** The `services` entries a worker's wrangler.jsonc must have: one per callee. */
export function servicesOf(worker) {
  return worker.callees.map((callee) => {
    const target = workerNamed(callee);
    return { binding: target.binding, service: target.service };
  });
}
