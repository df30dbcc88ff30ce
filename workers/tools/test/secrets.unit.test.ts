import { describe, expect, it } from "vitest";
import { openSecret, sealSecret, secretKeyFrom } from "../src/secrets";

function randomKeyText(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

async function keyOf(text: string): Promise<CryptoKey> {
  const key = await secretKeyFrom(text);
  if (!key.ok) throw new Error(key.error.message);
  return key.value;
}

const owner = { tenantId: "acme", tool: "weather" };

describe("secrets at rest", () => {
  it("round-trips, with a fresh IV every time and no plaintext in the sealed form", async () => {
    const key = await keyOf(randomKeyText());
    const first = await sealSecret(key, "s3cret-token", owner);
    const second = await sealSecret(key, "s3cret-token", owner);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain("s3cret");
    expect(await openSecret(key, first, owner)).toBe("s3cret-token");
    expect(await openSecret(key, second, owner)).toBe("s3cret-token");
  });

  it("detects tampering, another owner and another key", async () => {
    const key = await keyOf(randomKeyText());
    const sealed = await sealSecret(key, "s3cret-token", owner);
    const [version, iv, data] = sealed.split(".");
    const flipped = `${data!.slice(0, -2)}${data!.at(-2) === "A" ? "B" : "A"}${data!.at(-1)}`;
    expect(await openSecret(key, `${version}.${iv}.${flipped}`, owner)).toBeNull();
    expect(
      await openSecret(key, `${version}.${iv!.replace(/^./, iv![0] === "A" ? "B" : "A")}.${data}`, owner),
    ).toBeNull();
    expect(await openSecret(key, sealed, { tenantId: "globex", tool: "weather" })).toBeNull();
    expect(await openSecret(key, sealed, { tenantId: "acme", tool: "weather2" })).toBeNull();
    expect(await openSecret(await keyOf(randomKeyText()), sealed, owner)).toBeNull();
    expect(await openSecret(key, "v2.AAAA.AAAA", owner)).toBeNull();
    expect(await openSecret(key, "garbage", owner)).toBeNull();
  });

  it("names TOOLS_SECRET_KEY when it is missing or not 32 bytes of base64", async () => {
    for (const value of [undefined, "", "c2hvcnQ=", "not base64 at all!", btoa("x".repeat(33))]) {
      const key = await secretKeyFrom(value);
      expect(key.ok, String(value)).toBe(false);
      if (!key.ok) expect(key.error.message).toContain("TOOLS_SECRET_KEY");
    }
    // base64url without padding works too.
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const url = btoa(String.fromCharCode(...bytes))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    expect((await secretKeyFrom(url)).ok).toBe(true);
  });
});
