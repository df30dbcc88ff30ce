import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { calleeWorkerOptions } from "../../infra/mesh/worker-options.mjs";

/**
 * Two projects over the same worker: "rag" (everything, vector search from the TenantIndex's
 * in-memory matrix) and "rag-scan" (the vector-ranking tests again with VECTOR_MATRIX_MAX_BYTES=0,
 * so every query takes the SQLite scan a too-large index falls back to). crispy-ratelimit runs
 * beside it as built for deploy (model calls' usage points are recorded for real).
 */
const VECTOR_RANKING = "test/vector-index.integration.test.ts";

function project(name: string, include: string[], bindings: Record<string, string>) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.jsonc" },
        remoteBindings: false,
        miniflare: { bindings, workers: calleeWorkerOptions("rag") },
      }),
    ],
    test: { name, include, testTimeout: 30_000, hookTimeout: 30_000 },
  };
}

export default defineConfig({
  test: {
    projects: [
      project("rag", ["test/**/*.test.ts"], {}),
      project("rag-scan", [VECTOR_RANKING], { VECTOR_MATRIX_MAX_BYTES: "0" }),
    ],
  },
});
