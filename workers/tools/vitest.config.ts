import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { calleeWorkerOptions } from "../../infra/mesh/worker-options.mjs";

/** A fixed AES-GCM key for the tests (base64 of 32 bytes); never used outside them. */
const TEST_SECRET_KEY = "dGVzdC1vbmx5LXRvb2xzLXNlY3JldC1rZXktMzJieXQ=";
const NO_KEY = "test/no-secret-key.integration.test.ts";

/**
 * The tools worker with crispy-rag beside it as built for deploy (search_documents really
 * searches), real D1 and R2, and a real HTTP server on 127.0.0.1 for HTTP tools
 * (test/setup/tool-server.ts) and real MCP servers built with the SDK (test/setup/mcp-server.ts),
 * both reached through the default env's HTTP_TOOLS_LOOPBACK "allow".
 * Two projects: "tools" (everything, with a TOOLS_SECRET_KEY) and "tools-no-key" (the worker
 * without one: only what needs the key fails).
 */
function project(name: string, include: string[], exclude: string[], bindings: Record<string, string>) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.jsonc" },
        remoteBindings: false,
        miniflare: { bindings, workers: calleeWorkerOptions("tools") },
      }),
    ],
    test: {
      name,
      include,
      exclude,
      globalSetup: ["./test/setup/tool-server.ts", "./test/setup/mcp-server.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
}

// wrangler reads required secrets from .dev.vars or the environment; this keeps it from warning
// that TOOLS_SECRET_KEY is missing (the bindings below set the value the worker sees).
process.env.TOOLS_SECRET_KEY ??= TEST_SECRET_KEY;

export default defineConfig({
  test: {
    // One line per execution and registry change is noise in test output; warnings and errors print.
    onConsoleLog: (line: string) => !/"level":"info","event":"tools\./.test(line),
    projects: [
      project("tools", ["test/**/*.test.ts"], [NO_KEY], { TOOLS_SECRET_KEY: TEST_SECRET_KEY }),
      project("tools-no-key", [NO_KEY], [], { TOOLS_SECRET_KEY: "" }),
    ],
  },
});
