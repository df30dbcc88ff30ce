import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { calleeWorkerOptions } from "../../infra/mesh/worker-options.mjs";

/**
 * Two projects over the same worker: "chat" runs the local model with no per-token delay (fast),
 * "paced" with 50 ms between tokens and a 100 ms heartbeat, for the tests that observe timing
 * (`*-paced.integration.test.ts`). crispy-ratelimit and crispy-rag run beside it as built for deploy
 * (token budgets are reserved and settled for real; RAG turns search a real index).
 */
const PACED = "test/**/*-paced.integration.test.ts";

function project(name: string, include: string[], exclude: string[], bindings: Record<string, string>) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.jsonc" },
        remoteBindings: false,
        miniflare: { bindings, workers: calleeWorkerOptions("chat") },
      }),
    ],
    test: { name, include, exclude, testTimeout: 30_000, hookTimeout: 30_000 },
  };
}

export default defineConfig({
  test: {
    projects: [
      project("chat", ["test/**/*.test.ts"], [PACED], { LOCAL_TOKEN_DELAY_MS: "0" }),
      project("paced", [PACED], [], { LOCAL_TOKEN_DELAY_MS: "50", HEARTBEAT_MS: "100" }),
    ],
  },
});
