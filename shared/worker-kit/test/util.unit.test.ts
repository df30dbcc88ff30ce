import { describe, expect, it } from "vitest";
import { base64url, errorMessage, hex, randomToken, sha256Hex } from "../src/util";

describe("encoding helpers", () => {
  it("hashes UTF-8 text with SHA-256 (known vectors)", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("é")).not.toBe(await sha256Hex("e"));
  });

  it("writes base64url without padding and hex in lowercase", () => {
    expect(base64url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
    expect(base64url(new Uint8Array([0x61]))).toBe("YQ");
    expect(hex(new Uint8Array([0, 15, 255]))).toBe("000fff");
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("gives the message of anything thrown", () => {
    expect(errorMessage(new TypeError("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage({ code: 7 })).toBe('{"code":7}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorMessage(cyclic)).toBe("[object Object]");
  });
});
