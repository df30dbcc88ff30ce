/**
 * `pnpm dev` — the whole mesh on this machine, on embedded defaults:
 *   1. regenerates the tenant index, creates a local operator token, the chat widget's
 *      WIDGET_TOKEN_SECRET and the tools worker's TOOLS_SECRET_KEY (all kept in the gitignored
 *      .dev/, so they are stable across runs, and written to each worker's gitignored .dev.vars),
 *   2. applies the gateway's D1 migrations to the local state in .dev/state,
 *   3. starts every worker of infra/mesh/workers.json in one `wrangler dev` (gateway first; the only
 *      one with a port, a private one) behind the front proxy on PORT (front-proxy.ts: the client
 *      address from the socket, as Cloudflare's edge sets it; oversized declared bodies refused),
 *   4. once /health answers, makes sure each demo tenant has a working dev key, and acme a
 *      publishable key bound to the demo page's origin, and writes them to .dev/keys.json as
 *      { "acme": "<key>", "globex": "<key>", "acme_publishable": "pk_…" },
 *   5. ingests acme's demo documents (infra/dev/demo/documents; unchanged ones stay as they are)
 *      and serves the chat widget's demo page on DEMO_PORT (infra/dev/demo/server.ts), then
 *      prints the keys and the page's URL.
 * PORT (default 8787), INSPECTOR_PORT (default 9229) and DEMO_PORT (default PORT + 1) override the
 * ports; 127.0.0.1 only.
 */
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { devDir, operatorCall, operatorTokenPath, repoRoot, type OperatorTarget } from "../lib/operator-client";
import { meshWorkers } from "../mesh/manifest.mjs";
import { DEMO_DOCUMENTS, startDemoServer } from "./demo/server";
import { startFrontProxy } from "./front-proxy";

const DEMO_TENANTS = ["acme", "globex"];
const DEV_SCOPES = ["chat", "search", "ingest", "tools", "admin"];
const port = Number(process.env.PORT ?? 8787);
const inspectorPort = Number(process.env.INSPECTOR_PORT ?? 9229);
const demoPort = Number(process.env.DEMO_PORT ?? port + 1);
const demoOrigin = `http://127.0.0.1:${demoPort}`;
const stateDir = join(devDir, "state");
const keysPath = join(devDir, "keys.json");
const toolsSecretKeyPath = join(devDir, "tools-secret-key");
const widgetSecretPath = join(devDir, "widget-token-secret");
const wranglerBin = join(repoRoot, "node_modules", ".bin", "wrangler");

/** A TCP port on 127.0.0.1 that is free right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function run(command: string, args: string[], cwd = repoRoot): void {
  const result = spawnSync(command, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status})`);
}

/** A random secret kept in `path` (made on first run). */
function localSecret(path: string): string {
  mkdirSync(devDir, { recursive: true });
  if (!existsSync(path)) writeFileSync(path, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  return readFileSync(path, "utf8").trim();
}

/** The gateway's secrets: the operator token and the key visitor tokens are signed with. */
function operatorToken(): string {
  const token = localSecret(operatorTokenPath);
  const widget = localSecret(widgetSecretPath);
  // wrangler dev reads secrets from .dev.vars beside the config (gitignored).
  writeFileSync(
    join(repoRoot, "workers/gateway/.dev.vars"),
    `OPERATOR_TOKEN=${token}\nWIDGET_TOKEN_SECRET=${widget}\n`,
    { mode: 0o600 },
  );
  return token;
}

/**
 * The tools worker's AES-GCM key for HTTP tools' secrets (base64 of 32 bytes), made once: the same
 * key every run, so secrets stored in .dev/state stay readable.
 */
function toolsSecretKey(): void {
  mkdirSync(devDir, { recursive: true });
  if (!existsSync(toolsSecretKeyPath))
    writeFileSync(toolsSecretKeyPath, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  const key = readFileSync(toolsSecretKeyPath, "utf8").trim();
  writeFileSync(join(repoRoot, "workers/tools/.dev.vars"), `TOOLS_SECRET_KEY=${key}\n`, { mode: 0o600 });
}

async function waitForHealth(url: string, child: ReturnType<typeof spawn>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited (code ${child.exitCode}) before the gateway came up`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`gateway did not answer ${url}/health within 120 s`);
}

async function keyWorks(url: string, key: string): Promise<boolean> {
  const response = await fetch(`${url}/v1/tenant`, { headers: { authorization: `Bearer ${key}` } });
  return response.status === 200 || response.status === 429;
}

/** Whether a publishable key still gets visitor tokens from the demo page's origin. */
async function publishableWorks(url: string, key: string): Promise<boolean> {
  const response = await fetch(`${url}/v1/widget/session`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, origin: demoOrigin, "content-type": "application/json" },
    body: "{}",
  });
  return response.status === 200 || response.status === 429;
}

async function ensureDevKeys(target: OperatorTarget): Promise<Record<string, string>> {
  const keys: Record<string, string> = existsSync(keysPath) ? JSON.parse(readFileSync(keysPath, "utf8")) : {};
  for (const tenant of DEMO_TENANTS) {
    if (keys[tenant] && (await keyWorks(target.url, keys[tenant]))) continue;
    const created = await operatorCall<{ key: string }>(target, "POST", `/admin/tenants/${tenant}/keys`, {
      name: "dev key (pnpm dev)",
      scopes: DEV_SCOPES,
    });
    keys[tenant] = created.key;
  }
  // The chat widget's key: chat and search only, from the demo page's origin only (docs/widget.md).
  if (!(keys.acme_publishable && (await publishableWorks(target.url, keys.acme_publishable)))) {
    const created = await operatorCall<{ key: string }>(target, "POST", "/admin/tenants/acme/keys", {
      kind: "publishable",
      name: "chat widget demo page (pnpm dev)",
      scopes: ["chat", "search"],
      origins: [demoOrigin],
      visitorLimits: { requestsPerMinute: 20, burst: 10 },
      limits: { dailyTokens: 50_000 },
    });
    keys.acme_publishable = created.key;
  }
  writeFileSync(keysPath, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

/** acme's demo documents, for the widget to answer from (same content again is "unchanged"). */
async function ingestDemoDocuments(url: string, key: string): Promise<void> {
  const states: string[] = [];
  for (const doc of DEMO_DOCUMENTS) {
    const response = await fetch(`${url}/v1/documents?wait=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ id: doc.id, title: doc.title, url: doc.url, format: "markdown", text: doc.text }),
    });
    const job = (await response.json()) as { state?: string; error?: { message: string } };
    if (!response.ok) console.warn(`  demo document ${doc.id}: ${response.status} ${job.error?.message ?? ""}`);
    states.push(job.state ?? String(response.status));
  }
  console.log(`  acme's demo documents: ${states.join(", ")}`);
}

async function main(): Promise<void> {
  run("pnpm", ["--silent", "tenants:build"]);
  const token = operatorToken();
  toolsSecretKey();
  run(
    wranglerBin,
    ["d1", "migrations", "apply", "crispy-keys", "--local", "--persist-to", stateDir],
    join(repoRoot, "workers/gateway"),
  );

  // Every worker of the manifest, the public one (the gateway) first: only it gets a port, a
  // private one behind the front proxy (front-proxy.ts), which listens on PORT.
  const configs = meshWorkers.flatMap((worker) => ["-c", worker.configPath]);
  const meshPort = await freePort();
  const child = spawn(
    wranglerBin,
    [
      "dev",
      ...configs,
      "--ip",
      "127.0.0.1",
      "--port",
      String(meshPort),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      stateDir,
      "--show-interactive-dev-session=false",
    ],
    { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] },
  );
  const stop = () => child.kill("SIGTERM");
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  child.on("exit", (code) => process.exit(code ?? 0));

  await startFrontProxy(port, meshPort);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child);
  const keys = await ensureDevKeys({ url, token });
  // The demo is an extra: without it the mesh still serves.
  await ingestDemoDocuments(url, keys.acme!).catch((error: Error) =>
    console.warn(`  acme's demo documents were not ingested: ${error.message}`),
  );
  const demo = await startDemoServer(demoPort, url, keys.acme_publishable!).catch((error: Error) => {
    console.warn(`  the chat widget's demo page is not served (${error.message}); set DEMO_PORT to a free port`);
    return null;
  });
  console.log(`\n  Crispy Enigma mesh is up at ${url}  (state: .dev/state, keys: .dev/keys.json)\n`);
  for (const tenant of DEMO_TENANTS) console.log(`  ${tenant.padEnd(7)} dev key: ${keys[tenant]}`);
  console.log(`  acme    publishable key (chat widget): ${keys.acme_publishable}`);
  if (demo) console.log(`\n  chat widget demo page (acme): ${demo.url}`);
  console.log(`\n  try:  curl -H "authorization: Bearer ${keys.acme}" ${url}/v1/tenant\n`);
}

main().catch((error: Error) => {
  console.error(`pnpm dev: ${error.message}`);
  process.exit(1);
});
