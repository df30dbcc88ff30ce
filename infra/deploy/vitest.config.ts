// Plain Node: infra/deploy is a Node program. The integration test runs it end to end against a
// fake `wrangler` on PATH (test/fake-wrangler), so no account and no network are involved.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
