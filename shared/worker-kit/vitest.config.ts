// Plain Node: the tested modules (configuration, encoding helpers) use only zod and Web Crypto.
// The entrypoint base, stubs and SSE writer run in workerd and are tested through the workers.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { environment: "node", include: ["test/**/*.test.ts"], testTimeout: 5_000 },
});
