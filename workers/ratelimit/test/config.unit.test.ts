import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configOf } from "../src/config";

describe("ratelimit configuration", () => {
  it("reads the reservation TTL and refuses one that is not a positive whole number", () => {
    expect(configOf(env).RESERVATION_TTL_SECONDS).toBe(900);
    for (const bad of ["15m", "0", "-1"]) {
      expect(() => configOf({ ...env, RESERVATION_TTL_SECONDS: bad } as unknown as RatelimitEnv)).toThrow(
        /crispy-ratelimit configuration: RESERVATION_TTL_SECONDS must be/,
      );
    }
  });
});
