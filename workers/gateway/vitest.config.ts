import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { calleeWorkerOptions } from "../../infra/mesh/worker-options.mjs";

export const OPERATOR_TOKEN = "test-operator-token";
/** 32 bytes of 7s, base64: a key for tests only. */
const TEST_TOOLS_SECRET_KEY = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
/** The HMAC key of the chat widget's visitor tokens, for tests only (never a real one). */
const TEST_WIDGET_TOKEN_SECRET = "test-widget-token-secret-0123456789abcdef";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(new URL("./migrations", import.meta.url).pathname);
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.jsonc" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            OPERATOR_TOKEN,
            WIDGET_TOKEN_SECRET: TEST_WIDGET_TOKEN_SECRET,
            TEST_MIGRATIONS: migrations,
            KEY_CACHE_TTL_MS: "10000",
          },
          // The internal workers run beside the gateway exactly as built for deploy; the local
          // model emits a token every 50 ms so streaming tests can see tokens arrive unbuffered.
          // The tools worker encrypts HTTP tools' secrets with a test-only key (never a real one).
          workers: calleeWorkerOptions("gateway", {
            chat: { bindings: { LOCAL_TOKEN_DELAY_MS: "50" } },
            tools: { bindings: { TOOLS_SECRET_KEY: TEST_TOOLS_SECRET_KEY } },
          }),
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup/apply-migrations.ts"],
      // Real servers on 127.0.0.1: HTTP for tenant-defined HTTP tools to call, and an MCP server
      // (built with the SDK) for tenants to register as a remote tool source.
      globalSetup: ["./test/setup/tool-server.ts", "./test/setup/mcp-server.ts"],
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      // One access-log line per request is noise in test output; errors still print.
      onConsoleLog: (line: string) => !line.includes('"event":"request"'),
    },
  };
});
