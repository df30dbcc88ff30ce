import { describe, expect, it } from "vitest";
import { normaliseQuery, searchCacheKey, type SearchCacheParts } from "../src/cache";

const base: SearchCacheParts = {
  tenantId: "acme",
  indexVersion: 7,
  query: "What is the refund policy?",
  topK: 5,
  filter: { team: "billing", year: 2024 },
  chatModels: ["local/echo-1"],
  embeddingModel: "local/hash-embed-384",
  dimensions: 384,
  rerank: false,
};

describe("search cache key", () => {
  it("starts with the tenant and the index version", async () => {
    expect(await searchCacheKey(base)).toMatch(/^acme:search:v7:[0-9a-f]{64}$/);
    expect(await searchCacheKey({ ...base, tenantId: "globex" })).toMatch(/^globex:search:v7:/);
    expect(await searchCacheKey({ ...base, indexVersion: 8 })).toMatch(/^acme:search:v8:/);
  });

  it("normalises the query: case, spacing and Unicode form do not matter", async () => {
    expect(normaliseQuery("  What   is\tthe\nREFUND policy? ")).toBe("what is the refund policy?");
    const key = await searchCacheKey(base);
    expect(await searchCacheKey({ ...base, query: "  what IS the   refund\npolicy? " })).toBe(key);
    expect(await searchCacheKey({ ...base, query: "What is the refund policy" })).not.toBe(key);
  });

  it("ignores the order of filter keys", async () => {
    expect(await searchCacheKey({ ...base, filter: { year: 2024, team: "billing" } })).toBe(await searchCacheKey(base));
  });

  it("changes with every option", async () => {
    const key = await searchCacheKey(base);
    const variants: Partial<SearchCacheParts>[] = [
      { topK: 6 },
      { filter: { team: "billing" } },
      { filter: { team: "billing", year: "2024" } },
      { filter: undefined },
      { chatModels: ["local/echo-2"] },
      { chatModels: ["local/echo-1", "local/echo-2"] },
      { embeddingModel: "local/hash-embed-64" },
      { dimensions: 64 },
      { rerank: true },
    ];
    const keys = await Promise.all(variants.map((variant) => searchCacheKey({ ...base, ...variant })));
    for (const other of keys) expect(other).not.toBe(key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
