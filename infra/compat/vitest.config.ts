// Plain Node: the rules are pure, and the snapshot test asks the built internal workers (on
// workerd, through Miniflare) for their contracts.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    environment: "node",
    include: ["*.test.ts"],
    testTimeout: 30_000,
    // The snapshot test may first build the workers' bundles.
    hookTimeout: 300_000,
  },
});
