import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configOf } from "../src/config";

describe("chat configuration", () => {
  it("reads the heartbeat and the AI provider, and names a bad value instead of falling back", () => {
    expect(configOf(env)).toMatchObject({ AI_PROVIDER: "local", HEARTBEAT_MS: 15_000 });
    expect(() => configOf({ ...env, HEARTBEAT_MS: "soon" } as unknown as ChatEnv)).toThrow(
      'crispy-chat configuration: HEARTBEAT_MS must be a whole number (got "soon")',
    );
    expect(() => configOf({ ...env, AI_PROVIDER: "openai" } as unknown as ChatEnv)).toThrow(
      /AI_PROVIDER must be one of/,
    );
  });
});
