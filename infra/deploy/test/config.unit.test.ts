/**
 * The generated wrangler configs (config-gen.ts) from the committed ones: ids substituted, names
 * suffixed for staging and --tenant, service bindings rewritten, paths absolute, the gateway pinned,
 * and the deploy order from the manifest.
 */
import { isAbsolute } from "node:path";
import { deployOrder, repoRoot, workerNamed } from "@crispy/infra/mesh/manifest";
import { describe, expect, it } from "vitest";
import { generateConfig } from "../src/config-gen";
import type { Ids } from "../src/plan";
import { type Block, readCommitted, readTenants, resourcesOf, servedTenants } from "../src/resources";
import { deployedName, type Target, targetKey } from "../src/target";

const production: Target = { env: "production", tenant: null };
const staging: Target = { env: "staging", tenant: null };
const acme: Target = { env: "production", tenant: "acme" };

/** Ids for every D1 database and KV namespace the mesh needs on `target`, as an account would have. */
function idsFor(target: Target): Ids {
  const committed = deployOrder.map(readCommitted);
  const resources = resourcesOf(committed, target, servedTenants(readTenants(repoRoot), target));
  const ids: Ids = { d1: {}, kv: {} };
  for (const resource of resources) {
    if (resource.kind === "d1") ids.d1[resource.name] = `d1-id-of-${resource.name}`;
    if (resource.kind === "kv") ids.kv[resource.name] = `kv-id-of-${resource.name}`;
  }
  return ids;
}

function generated(worker: string, target: Target, ids: Ids | null = idsFor(target)) {
  const result = generateConfig(readCommitted(workerNamed(worker)), { target, mesh: deployOrder, ids });
  const block = (result.env ? (result.config.env as Record<string, Block>)[result.env] : result.config) as Block;
  return { ...result, block };
}

describe("deploy order", () => {
  it("deploys every worker after the workers it calls, the gateway last", () => {
    const names = deployOrder.map((worker) => worker.name);
    expect(new Set(names).size).toBe(names.length);
    for (const worker of deployOrder) {
      for (const callee of worker.callees) expect(names.indexOf(callee)).toBeLessThan(names.indexOf(worker.name));
    }
    expect(names.at(-1)).toBe("gateway");
    expect(names[0]).toBe("ratelimit");
  });
});

describe("generated configs", () => {
  it("production: committed names, the account's ids, minified, deployed with --env production", () => {
    const rag = generated("rag", production);
    expect(rag.env).toBe("production");
    expect(rag.name).toBe("crispy-rag");
    expect(rag.config.minify).toBe(true);
    expect(rag.block.kv_namespaces).toEqual([{ binding: "SEARCH_CACHE", id: "kv-id-of-crispy-search-cache" }]);
    expect(rag.block.vectorize).toEqual([{ binding: "VECTORIZE", index_name: "crispy-rag" }]);
    expect(rag.block.services).toEqual([{ binding: "RATELIMIT", service: "crispy-ratelimit" }]);
    const gateway = generated("gateway", production);
    expect(gateway.env).toBeNull();
    expect(gateway.block.d1_databases).toEqual([
      expect.objectContaining({ database_name: "crispy-keys", database_id: "d1-id-of-crispy-keys" }),
    ]);
  });

  it("staging: every name suffixed, the production block renamed to env.staging", () => {
    const chat = generated("chat", staging);
    expect(chat.env).toBe("staging");
    expect(Object.keys(chat.config.env as object)).toEqual(["staging"]);
    expect(chat.name).toBe("crispy-chat-staging");
    expect((chat.block.services as Block[]).map((s) => s.service)).toEqual([
      "crispy-ratelimit-staging",
      "crispy-rag-staging",
      "crispy-tools-staging",
    ]);
    expect(chat.block.ai).toEqual({ binding: "AI" });
    const ratelimit = generated("ratelimit", staging);
    expect(ratelimit.block.analytics_engine_datasets).toEqual([
      { binding: "USAGE_EVENTS", dataset: "crispy_usage_staging" },
    ]);
  });

  it("--tenant acme: a dedicated mesh, its gateway pinned with TENANT_ID", () => {
    const gateway = generated("gateway", acme);
    expect(gateway.name).toBe("crispy-gateway-acme");
    expect((gateway.block.vars as Block).TENANT_ID).toBe("acme");
    expect((gateway.block.services as Block[]).every((s) => String(s.service).endsWith("-acme"))).toBe(true);
    expect((gateway.block.d1_databases as Block[])[0]).toMatchObject({
      database_name: "crispy-keys-acme",
      database_id: "d1-id-of-crispy-keys-acme",
    });
    const tools = generated("tools", acme);
    expect(tools.block.r2_buckets).toEqual([{ binding: "TOOL_FILES", bucket_name: "crispy-tool-files-acme" }]);
    // Only the gateway is pinned; the internal workers serve whatever tenant the gateway sends.
    expect((tools.block.vars as Block).TENANT_ID).toBeUndefined();
  });

  it("leaves no committed placeholder id in a deployed block, and makes every path absolute", () => {
    for (const worker of deployOrder) {
      const { block, config } = generated(worker.name, acme);
      const text = JSON.stringify(block);
      expect(text).not.toMatch(/00000000-0000-4000-8000|00000000000000000000000000c0ffee/);
      expect(isAbsolute(String(config.main))).toBe(true);
      for (const db of (block.d1_databases as Block[] | undefined) ?? []) {
        expect(isAbsolute(String(db.migrations_dir))).toBe(true);
      }
      for (const target of Object.values((config.alias as Record<string, string> | undefined) ?? {})) {
        expect(isAbsolute(target)).toBe(true);
      }
      const build = config.build as Block | undefined;
      if (build) expect(build.cwd).toBe(worker.dir);
    }
  });

  it("a dry run keeps the placeholders (no account to ask)", () => {
    const rag = generated("rag", production, null);
    expect(rag.block.kv_namespaces).toEqual([{ binding: "SEARCH_CACHE", id: "00000000000000000000000000c0ffee" }]);
  });

  it("refuses to generate a deployed block without the account's id", () => {
    expect(() => generated("rag", production, { d1: {}, kv: {} })).toThrow(
      /no id for KV namespace crispy-search-cache/,
    );
  });

  it("leaves the committed config untouched", () => {
    const committed = readCommitted(workerNamed("gateway"));
    const before = JSON.stringify(committed.raw);
    generateConfig(committed, { target: acme, mesh: deployOrder, ids: idsFor(acme) });
    expect(JSON.stringify(committed.raw)).toBe(before);
  });
});

describe("names", () => {
  it("suffixes by tenant, then environment, and refuses names over Cloudflare's 63 characters", () => {
    expect(deployedName("crispy-keys", { env: "staging", tenant: "acme" })).toBe("crispy-keys-acme-staging");
    expect(targetKey({ env: "staging", tenant: "acme" })).toBe("staging-acme");
    expect(() => deployedName("crispy-tool-files", { env: "staging", tenant: "a".repeat(48) })).toThrow(/63/);
  });
});
