/**
 * Asks built internal workers what their RPC surface is: one Miniflare (plain workerd, 127.0.0.1)
 * with every internal worker of a checkout as built for deploy, and a probe worker bound to each
 * that calls its `contract()`. What the bundles answer is the truth the rules are checked
 * against — not what the sources or a snapshot say.
 */
import { createServer } from "node:net";
import type { Readable } from "node:stream";
import { Log, LogLevel, Miniflare } from "miniflare";
import { builtWorkerOptions, repoRoot } from "../mesh/worker-options.mjs";
import { internalWorkersOf } from "./base";
import { type Contract, contractOf } from "./rules";

const HOST = "127.0.0.1";

/** A free TCP port on 127.0.0.1, so the probe binds an explicit one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const PROBE = `
export default {
  async fetch(request, env) {
    const contracts = [];
    for (const name of Object.keys(env)) contracts.push(await env[name].contract());
    return Response.json(contracts);
  },
};`;

/**
 * The contract of every internal worker of the checkout at `root` (default: this one), from its
 * bundles (which must be built there; this tree's are built when stale).
 */
export async function probeContracts(root: string = repoRoot): Promise<Contract[]> {
  const names = internalWorkersOf(root);
  const workers = names.map((name) => builtWorkerOptions(name, root === repoRoot ? {} : { from: root }));
  const mf = new Miniflare({
    host: HOST,
    port: await freePort(),
    cf: false,
    log: new Log(LogLevel.ERROR),
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      stdout.resume();
      stderr.resume();
    },
    workers: [
      {
        name: "compat-probe",
        modules: true,
        script: PROBE,
        compatibilityDate: workers[0]?.compatibilityDate ?? "2026-04-26",
        serviceBindings: Object.fromEntries(names.map((name, i) => [name, workers[i]!.name])),
      },
      ...workers,
    ],
  });
  try {
    const response = await mf.dispatchFetch("http://probe.test/");
    const text = await response.text();
    if (!response.ok) throw new Error(`the contract probe answered ${response.status}: ${text.slice(0, 500)}`);
    return (JSON.parse(text) as unknown[]).map(contractOf);
  } finally {
    await mf.dispose();
  }
}
