/**
 * scenarios.mjs — what `pnpm bench` measures. Each scenario compares a `subject` against a
 * `baseline`, both `{ target, method, path, headers?, body? }`, where `target` names a server
 * started by mesh.mjs: "bare" (hello world), "gateway" (the whole mesh; entry = gateway) or
 * "passthrough" (self-test stand-in). `headers`/`body` may be functions of the run context
 * `ctx = { apiKey, operatorToken, urls }` so secrets created at run time can be used.
 * `needs` lists context the scenario requires ("apiKey" → the harness creates a key for the
 * `bench` tenant through the admin API). `targets` are reported, never gated. `optional: true`
 * scenarios run only when named with `--scenario`.
 *
 * `kind: "ttfb"` and `kind: "retrieval"` scenarios run their own measurement (ttfb.mjs,
 * retrieval.mjs) instead of autocannon. To add a scenario append an entry here.
 */

const bearer = (ctx) => ({ authorization: `Bearer ${ctx.apiKey}` });

/** Targets from ARCHITECTURE.md: gateway ≥ 50 % of bare throughput, ≤ 2 ms added p50. */
const DEFAULT_TARGETS = { minThroughputRatio: 0.5, maxAddedP50Ms: 2 };

/** @type {Array<{ name: string, description: string, selfTest?: boolean, optional?: boolean, needs?: string[],
 *   baseline: object, subject: object, targets?: typeof DEFAULT_TARGETS }>} */
export const scenarios = [
  {
    name: "tenant-get",
    description: "authenticated, rate-limited GET /v1/tenant on the gateway vs GET / on a bare worker",
    needs: ["apiKey"],
    baseline: { target: "bare", method: "GET", path: "/" },
    subject: { target: "gateway", method: "GET", path: "/v1/tenant", headers: bearer },
    targets: DEFAULT_TARGETS,
  },
  {
    name: "chat-ttfb",
    kind: "ttfb",
    description:
      "time to first token of a streamed chat turn through the mesh vs the local model called in-process (sequential)",
    needs: ["apiKey"],
    baseline: { target: "direct" },
    subject: { target: "gateway", method: "POST", path: "/v1/chat" },
    targets: { maxAddedP50Ms: 3 },
  },
  {
    name: "retrieval",
    kind: "retrieval",
    description:
      "ingest throughput (chunks/s, mesh vs the same parse→chunk→embed in-process) and search latency at 1k and 10k chunks in one tenant (local backend)",
    needs: ["apiKey"],
    baseline: { target: "direct" },
    subject: { target: "gateway", method: "POST", path: "/v1/search" },
    sizes: [1_000, 10_000],
    targets: null,
  },
  {
    // Last: every request opens a new ChatSession DO, and a few thousand of them in one local
    // workerd process exhaust its SQLite memory (SQLITE_NOMEM, then 503s) for every later scenario.
    name: "chat-stream",
    description:
      "full streamed chat turns (new session each, local model, no token delay) through the mesh vs bare GET /",
    needs: ["apiKey"],
    baseline: { target: "bare", method: "GET", path: "/" },
    subject: {
      target: "gateway",
      method: "POST",
      path: "/v1/chat",
      headers: (ctx) => ({ ...bearer(ctx), "content-type": "application/json" }),
      body: JSON.stringify({ message: "What should I pack for a weekend in the mountains?" }),
    },
    targets: null,
  },
  {
    name: "gateway-health",
    description: "diagnostic: unauthenticated GET /health (routing, logging; no D1, no RPC) vs bare",
    optional: true,
    baseline: { target: "bare", method: "GET", path: "/" },
    subject: { target: "gateway", method: "GET", path: "/health" },
    targets: DEFAULT_TARGETS,
  },
  {
    name: "self-passthrough",
    description: "self-test: one service-binding fetch passthrough vs a bare worker (no repo workers needed)",
    selfTest: true,
    baseline: { target: "bare", method: "GET", path: "/" },
    subject: { target: "passthrough", method: "GET", path: "/" },
    targets: DEFAULT_TARGETS,
  },
];
