/**
 * `pnpm run deploy` end to end, against a fake `wrangler` on PATH (fake-wrangler/): an account that
 * starts empty. The first run must list, create every resource, apply the D1 migrations, put the
 * secrets (on stdin) and deploy the workers callees first, each with the account's real ids in its
 * config; a second run must create nothing and put no secret it was not given; a run that lacks a
 * secret it cannot ask for must stop before changing anything.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deployOrder } from "@crispy/infra/mesh/manifest";
import { describe, expect, it } from "vitest";
import { readCommitted, requiredSecretsOf } from "../src/resources";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const FAKE_BIN = fileURLToPath(new URL("./fake-wrangler/bin", import.meta.url));
chmodSync(join(FAKE_BIN, "wrangler"), 0o755);

/** A valid test value for every secret the workers require (read from their wrangler.jsonc). */
const SECRETS: Record<string, string> = Object.fromEntries(
  deployOrder
    .flatMap((worker) => requiredSecretsOf(readCommitted(worker)))
    .map((name) => [
      name,
      name === "TOOLS_SECRET_KEY"
        ? Buffer.alloc(32, 9).toString("base64")
        : `test-${name.toLowerCase()}-`.padEnd(48, "x"),
    ]),
);
const secretsOf = (worker: string) =>
  Object.fromEntries(
    requiredSecretsOf(readCommitted(deployOrder.find((w) => w.name === worker)!)).map((n) => [n, SECRETS[n]]),
  );
const except = (name: string) => Object.fromEntries(Object.entries(SECRETS).filter(([key]) => key !== name));

interface Call {
  args: string[];
  stdin?: string;
}
interface Deployed {
  name: string;
  minify: boolean;
  vars: Record<string, string>;
  services: Array<{ binding: string; service: string }>;
  d1: Array<{ database_name: string; database_id: string }>;
  kv: Array<{ binding: string; id: string }>;
  r2: Array<{ bucket_name: string }>;
  vectorize: Array<{ index_name: string }>;
}
interface Account {
  calls: Call[];
  d1: Array<{ name: string; uuid: string }>;
  kv: Array<{ title: string; id: string }>;
  r2: string[];
  vectorize: Array<{ name: string; config: { dimensions: number; metric: string }; metadataIndexes: unknown[] }>;
  workers: Record<string, { secrets: Record<string, string>; deployed: Deployed | null }>;
}

function freshAccount(): { statePath: string; outDir: string } {
  const dir = mkdtempSync(join(tmpdir(), "crispy-deploy-"));
  const statePath = join(dir, "account.json");
  writeFileSync(statePath, JSON.stringify({ calls: [], d1: [], kv: [], r2: [], vectorize: [], workers: {} }));
  return { statePath, outDir: join(dir, "out") };
}

function run(
  args: string[],
  account: { statePath: string; outDir: string },
  secrets: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, FAKE_WRANGLER_STATE: account.statePath, ...secrets };
    for (const name of Object.keys(SECRETS)) delete env[name];
    Object.assign(env, secrets, { PATH: [FAKE_BIN, process.env.PATH].join(delimiter) });
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args, "--out", account.outDir], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

const read = (statePath: string): Account => JSON.parse(readFileSync(statePath, "utf8")) as Account;
const verbs = (calls: Call[]) =>
  calls.map((call) =>
    call.args
      .filter((arg) => !arg.startsWith("-"))
      .slice(0, 2)
      .join(" "),
  );
const creates = (calls: Call[]) => calls.filter((call) => /create/.test(call.args.slice(0, 3).join(" ")));
const deploys = (calls: Call[]) => calls.filter((call) => call.args[0] === "deploy");

describe("pnpm run deploy against an account (fake wrangler)", () => {
  it("provisions, applies migrations, puts secrets and deploys callees first; a second run creates nothing", async () => {
    const account = freshAccount();
    const first = await run(["--env", "staging"], account, SECRETS);
    expect(first.code, first.output).toBe(0);
    const after = read(account.statePath);

    // Every resource of the staging mesh, named with its suffix, created once.
    expect(after.d1.map((db) => db.name).sort()).toEqual(["crispy-keys-staging", "crispy-tools-staging"]);
    expect(after.kv.map((ns) => ns.title)).toEqual(["crispy-search-cache-staging"]);
    expect(after.r2.sort()).toEqual(["crispy-documents-staging", "crispy-tool-files-staging"]);
    expect(after.vectorize).toEqual([
      expect.objectContaining({
        name: "crispy-rag-staging",
        config: { dimensions: 384, metric: "cosine" },
        metadataIndexes: [{ propertyName: "docId", indexType: "string" }],
      }),
    ]);
    // Listing comes before creating.
    const order = verbs(after.calls);
    expect(order.indexOf("d1 list")).toBeLessThan(order.indexOf("d1 create"));
    expect(order.indexOf("kv namespace")).toBeLessThan(order.lastIndexOf("kv namespace"));

    // Deployed callees first, each with the account's ids and the staging names.
    const deployed = deploys(after.calls).map((call) => call.args[call.args.indexOf("--config") + 1]!);
    expect(deployed.map((path) => path.replace(/.*\/(\w+)\.wrangler\.jsonc$/, "$1"))).toEqual(
      deployOrder.map((worker) => worker.name),
    );
    const gateway = after.workers["crispy-gateway-staging"]!.deployed!;
    expect(gateway.minify).toBe(true);
    expect(gateway.services.map((s) => s.service).sort()).toEqual(
      ["chat", "ingest", "rag", "ratelimit", "tools"].map((name) => `crispy-${name}-staging`),
    );
    expect(gateway.d1[0]!.database_id).toBe(after.d1.find((db) => db.name === "crispy-keys-staging")!.uuid);
    expect(gateway.vars.TENANT_ID).toBeUndefined();
    const rag = after.workers["crispy-rag-staging"]!.deployed!;
    expect(rag.kv[0]!.id).toBe(after.kv[0]!.id);
    expect(rag.vectorize[0]!.index_name).toBe("crispy-rag-staging");
    expect(rag.vars.AI_PROVIDER).toBe("workers-ai");

    // The D1 migrations ran against the gateway's database before the gateway was deployed.
    const migrations = after.calls.findIndex((call) => call.args.slice(0, 3).join(" ") === "d1 migrations apply");
    expect(after.calls[migrations]!.args).toContain("crispy-keys-staging");
    expect(migrations).toBeLessThan(after.calls.indexOf(deploys(after.calls).at(-1)!));

    // Secrets went on stdin, before their worker's deploy, and never into an argument or a file.
    expect(after.workers["crispy-gateway-staging"]!.secrets).toEqual(secretsOf("gateway"));
    expect(after.workers["crispy-tools-staging"]!.secrets).toEqual(secretsOf("tools"));
    expect(secretsOf("gateway")).toHaveProperty("OPERATOR_TOKEN");
    const putTools = after.calls.findIndex((call) => call.args[0] === "secret" && call.args[2] === "TOOLS_SECRET_KEY");
    const deployTools = after.calls.findIndex(
      (call) => call.args[0] === "deploy" && call.args.some((arg) => arg.endsWith("tools.wrangler.jsonc")),
    );
    expect(putTools).toBeGreaterThan(-1);
    expect(putTools).toBeLessThan(deployTools);
    for (const call of after.calls) {
      for (const value of Object.values(SECRETS)) expect(call.args.join(" ")).not.toContain(value);
    }
    for (const file of readdirSync(account.outDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const text = readFileSync(join(file.parentPath, file.name), "utf8");
      for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
      // No committed placeholder id survives into a deployed block.
      if (file.name === "rag.wrangler.jsonc") expect(text).toContain(after.kv[0]!.id);
    }

    // Second run, no secrets in the environment: nothing created, no secret put, everything deployed again.
    const callsBefore = after.calls.length;
    const second = await run(["--env", "staging"], account);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain("provisioning: every resource exists");
    const again = read(account.statePath).calls.slice(callsBefore);
    expect(creates(again)).toEqual([]);
    expect(again.filter((call) => call.args[0] === "secret" && call.args[1] === "put")).toEqual([]);
    expect(deploys(again)).toHaveLength(deployOrder.length);
  });

  it("stops before changing anything when a secret is neither set nor askable", async () => {
    const account = freshAccount();
    const result = await run(["--env", "production"], account, except("TOOLS_SECRET_KEY"));
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/TOOLS_SECRET_KEY \(for crispy-tools; base64 of 32 random bytes/);
    expect(result.output).toContain("Nothing was changed");
    const calls = read(account.statePath).calls;
    expect(creates(calls)).toEqual([]);
    expect(deploys(calls)).toEqual([]);
    expect(calls.every((call) => call.args[0] === "secret" && call.args[1] === "list")).toBe(true);
  });

  it("refuses a malformed secret before anything changes", async () => {
    const account = freshAccount();
    const result = await run(["--env", "production"], account, { ...SECRETS, TOOLS_SECRET_KEY: "short" });
    expect(result.code).toBe(1);
    expect(result.output).toContain("TOOLS_SECRET_KEY must be base64 of 32 random bytes");
    expect(deploys(read(account.statePath).calls)).toEqual([]);
  });

  it("--tenant acme --worker gateway: a dedicated, pinned gateway with its own database", async () => {
    const account = freshAccount();
    const result = await run(["--env", "production", "--tenant", "acme", "--worker", "gateway"], account, SECRETS);
    expect(result.code, result.output).toBe(0);
    const after = read(account.statePath);
    expect(after.d1.map((db) => db.name)).toEqual(["crispy-keys-acme"]);
    expect(after.r2).toEqual([]);
    expect(deploys(after.calls)).toHaveLength(1);
    const gateway = after.workers["crispy-gateway-acme"]!.deployed!;
    expect(gateway.vars.TENANT_ID).toBe("acme");
    expect(gateway.services.map((s) => s.service)).toContain("crispy-chat-acme");
    const state = JSON.parse(readFileSync(join(account.outDir, "production-acme.json"), "utf8")) as {
      resources: Array<{ name: string; id?: string }>;
    };
    expect(state.resources).toEqual([{ kind: "d1", name: "crispy-keys-acme", id: after.d1[0]!.uuid }]);
  });

  it("refuses a tenant that has no config", async () => {
    const account = freshAccount();
    const result = await run(["--env", "production", "--tenant", "initech"], account, SECRETS);
    expect(result.code).toBe(1);
    expect(result.output).toContain('no tenant "initech" in tenants/');
    expect(read(account.statePath).calls).toEqual([]);
  });
});
