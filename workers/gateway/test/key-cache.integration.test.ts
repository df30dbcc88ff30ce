import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createKey, hashKey } from "../src/auth/api-keys";
import { lookupKey } from "../src/auth/key-cache";

describe("API-key cache revocation bound", () => {
  it("serves a lookup revoked elsewhere for at most the TTL, then sees the revocation", async () => {
    const created = await createKey(env.KEYS_DB, "acme", { scopes: ["chat"] });
    const hash = await hashKey(created.key);
    const ttl = 10_000;
    const t0 = Date.now();
    expect((await lookupKey(env.KEYS_DB, hash, ttl, t0))?.revokedAt).toBeNull();

    // Another isolate revokes the key: this isolate's cache does not hear of it.
    await env.KEYS_DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?")
      .bind(new Date(t0).toISOString(), created.id)
      .run();
    expect((await lookupKey(env.KEYS_DB, hash, ttl, t0 + ttl - 1))?.revokedAt).toBeNull();
    expect((await lookupKey(env.KEYS_DB, hash, ttl, t0 + ttl))?.revokedAt).not.toBeNull();
  });
});
