// Plain Node is enough: spans, trace context and log lines use only performance.now, Web Crypto and console.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { environment: "node", include: ["test/**/*.test.ts"], testTimeout: 5_000 },
});
