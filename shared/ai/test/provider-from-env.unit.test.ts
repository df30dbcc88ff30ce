import { describe, expect, it } from "vitest";
import { providerFromEnv } from "../src/index";

const meta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const ask = { model: "local/echo-1", messages: [{ role: "user" as const, content: "hi" }] };

describe("providerFromEnv", () => {
  it("uses the offline local provider when AI_PROVIDER is unset or local", async () => {
    for (const env of [{}, { AI_PROVIDER: "local" }, { AI_PROVIDER: "" }]) {
      const provider = providerFromEnv(env);
      expect(provider.name).toBe("local");
      expect((await provider.chat(ask, meta)).text).toContain('You said: "hi"');
    }
  });

  it("paces the local provider by LOCAL_TOKEN_DELAY_MS", async () => {
    const provider = providerFromEnv({ LOCAL_TOKEN_DELAY_MS: "15" });
    const started = Date.now();
    let tokens = 0;
    for await (const event of provider.chatStream(ask, meta)) if (event.type === "token") tokens += 1;
    expect(Date.now() - started).toBeGreaterThanOrEqual(tokens * 15 - 5);
  });

  it("builds workers-ai from the AI binding and openai-compatible from its base URL", () => {
    expect(providerFromEnv({ AI_PROVIDER: "workers-ai", AI: { run: async () => ({}) } }).name).toBe("workers-ai");
    expect(
      providerFromEnv({ AI_PROVIDER: "openai-compatible", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" }).name,
    ).toBe("openai-compatible");
  });

  it.each([
    [
      { AI_PROVIDER: "anthropic" },
      /AI_PROVIDER must be one of "local", "workers-ai", "openai-compatible" \(got "anthropic"\)/,
    ],
    [{ AI_PROVIDER: "workers-ai" }, /AI binding is missing/],
    [{ AI_PROVIDER: "openai-compatible", OPENAI_API_KEY: "sk" }, /OPENAI_BASE_URL is not set/],
    [
      { LOCAL_TOKEN_DELAY_MS: "fast" },
      /crispy-ai configuration: LOCAL_TOKEN_DELAY_MS must be a whole number \(got "fast"\)/,
    ],
    [
      { AI_PROVIDER: "openai-compatible", OPENAI_BASE_URL: "localhost:11434" },
      /OPENAI_BASE_URL must be an http\(s\) URL/,
    ],
  ])("refuses %j with a clear message", (env, message) => {
    expect(() => providerFromEnv(env)).toThrow(message);
  });
});
