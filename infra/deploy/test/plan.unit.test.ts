/**
 * Idempotent provisioning as a pure function: wrangler's list output (as wrangler 4 prints it)
 * parsed, and what the plan creates from it — everything on an empty account, nothing on a
 * complete one, only the gap in between, and a loud refusal where an existing resource cannot fit.
 */
import { deployOrder, repoRoot } from "@crispy/infra/mesh/manifest";
import { describe, expect, it } from "vitest";
import { idsOf, type Listings, planProvisioning } from "../src/plan";
import { readCommitted, readTenants, type Resource, resourcesOf, servedTenants } from "../src/resources";
import type { Target } from "../src/target";
import {
  parseD1List,
  parseKvList,
  parseMetadataIndexes,
  parseR2List,
  parseSecretList,
  parseVectorizeList,
} from "../src/wrangler-output";

const production: Target = { env: "production", tenant: null };
const required = (target: Target): Resource[] =>
  resourcesOf(deployOrder.map(readCommitted), target, servedTenants(readTenants(repoRoot), target));

const empty: Listings = { d1: [], kv: [], r2: [], vectorize: [], metadataIndexes: {} };

/** What a production account with the whole mesh provisioned lists. */
const complete: Listings = {
  d1: parseD1List(`[
  { "uuid": "1111-keys", "name": "crispy-keys", "created_at": "2026-01-01", "version": "production" },
  { "uuid": "2222-tools", "name": "crispy-tools", "created_at": "2026-01-01", "version": "production" },
  { "uuid": "3333-other", "name": "someone-else", "created_at": "2026-01-01", "version": "production" }
]`),
  kv: parseKvList(`[
  { "id": "abcd0123", "title": "crispy-search-cache", "supports_url_encoding": true }
]`),
  r2: parseR2List(
    "Listing buckets...\nname:           crispy-documents\ncreation_date:  2026-01-01T00:00:00.000Z\n\nname:           crispy-tool-files\ncreation_date:  2026-01-02T00:00:00.000Z\n",
  ),
  vectorize: parseVectorizeList(
    `[{ "name": "crispy-rag", "description": "", "config": { "dimensions": 384, "metric": "cosine" }, "created_on": "x", "modified_on": "x" }]`,
  ),
  metadataIndexes: { "crispy-rag": parseMetadataIndexes(`[{ "propertyName": "docId", "indexType": "string" }]`) },
};

describe("wrangler list output", () => {
  it("parses each list command's format, colours and a leading notice included", () => {
    expect(complete.d1.map((db) => db.name)).toEqual(["crispy-keys", "crispy-tools", "someone-else"]);
    expect(complete.r2).toEqual(["crispy-documents", "crispy-tool-files"]);
    expect(parseR2List("\u001b[37mname:\u001b[39m  \u001b[90mcoloured\u001b[39m\n")).toEqual(["coloured"]);
    expect(parseD1List("some notice first\n[]")).toEqual([]);
    expect(parseVectorizeList("\nYou haven't created any indexes on this account.\n")).toEqual([]);
    expect(parseSecretList(`[{ "name": "OPERATOR_TOKEN", "type": "secret_text" }]`)).toEqual(["OPERATOR_TOKEN"]);
    expect(() => parseKvList("✘ [ERROR] Authentication error")).toThrow(/expected a JSON list/);
  });
});

describe("planProvisioning", () => {
  it("creates everything on an empty account, the metadata index too", () => {
    const plan = planProvisioning(required(production), empty);
    expect(plan.create.map((r) => `${r.kind} ${r.name}`).sort()).toEqual([
      "d1 crispy-keys",
      "d1 crispy-tools",
      "kv crispy-search-cache",
      "r2 crispy-documents",
      "r2 crispy-tool-files",
      "vectorize crispy-rag",
    ]);
    expect(plan.create.find((r) => r.kind === "vectorize")).toMatchObject({ dimensions: 384, metric: "cosine" });
    expect(plan.metadataIndexes).toEqual([{ index: "crispy-rag", propertyName: "docId", type: "string" }]);
  });

  it("creates nothing on a complete account, and reads the ids from it", () => {
    const plan = planProvisioning(required(production), complete);
    expect(plan).toEqual({ create: [], metadataIndexes: [] });
    expect(idsOf(required(production), complete)).toEqual({
      d1: { "crispy-keys": "1111-keys", "crispy-tools": "2222-tools" },
      kv: { "crispy-search-cache": "abcd0123" },
    });
  });

  it("creates only what is missing: a lost bucket and a metadata index", () => {
    const partial: Listings = { ...complete, r2: ["crispy-tool-files"], metadataIndexes: { "crispy-rag": [] } };
    const plan = planProvisioning(required(production), partial);
    expect(plan.create.map((r) => r.name)).toEqual(["crispy-documents"]);
    expect(plan.metadataIndexes).toEqual([{ index: "crispy-rag", propertyName: "docId", type: "string" }]);
  });

  it("a staging mesh needs its own resources even where production's exist", () => {
    const plan = planProvisioning(required({ env: "staging", tenant: null }), complete);
    expect(plan.create).toHaveLength(6);
    expect(plan.create.every((r) => r.name.endsWith("-staging"))).toBe(true);
  });

  it("refuses a Vectorize index of other dimensions instead of using it", () => {
    const wrong: Listings = { ...complete, vectorize: [{ name: "crispy-rag", dimensions: 768, metric: "cosine" }] };
    expect(() => planProvisioning(required(production), wrong)).toThrow(/768 dimensions .* 384/);
  });

  it("names what is still missing when ids are read", () => {
    expect(() => idsOf(required(production), empty)).toThrow(/^not found after provisioning: .*KV crispy-search-cache/);
    expect(() => idsOf(required(production), { ...complete, d1: [] })).toThrow(/: D1 crispy-tools, D1 crispy-keys$/);
  });
});
