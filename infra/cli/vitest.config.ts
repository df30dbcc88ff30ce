// Plain Node: the CLI is a Node program, and its integration test drives a real mesh (Miniflare)
// by spawning the CLI as a user would.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // Starting the mesh may first build the workers' bundles.
    hookTimeout: 300_000,
  },
});
