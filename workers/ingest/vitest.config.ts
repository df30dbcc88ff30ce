import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { calleeWorkerOptions } from "../../infra/mesh/worker-options.mjs";

/**
 * The ingest worker with crispy-rag beside it as built for deploy (documents are really indexed,
 * versioned and deleted there). Job retries back off from 20 ms instead of 2 s, so the retry
 * tests take well under a second.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      remoteBindings: false,
      miniflare: {
        bindings: { INGEST_RETRY_BASE_MS: "20" },
        workers: calleeWorkerOptions("ingest"),
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000, hookTimeout: 30_000 },
});
