// Plain Node is enough: the package only uses fetch, web streams, TextEncoder/Decoder and timers.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 5_000,
  },
});
