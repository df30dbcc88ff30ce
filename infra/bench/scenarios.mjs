/**
 * scenarios.mjs — what `pnpm bench` measures. Each scenario compares a `subject` against a
 * `baseline`, both `{ target, method, path, headers?, body?, bodies? }`, where `target` names a
 * server started by bench.mjs: "bare" (hello world), "gateway" (the whole mesh; entry = gateway),
 * "passthrough-mock" (one fetch() to the mock model upstream, mock-upstream.mjs) or "passthrough"
 * (self-test stand-in). `headers`/`body`/`bodies` may be functions of the run context
 * `ctx = { apiKey, operatorToken, urls, sessionPool }` so values created at run time can be used;
 * `bodies` (an array) varies the body per request, each connection sending its own share.
 * `needs` lists context the scenario requires ("apiKey" → the harness creates a key for the
 * `bench` tenant through the admin API; "sessionPool" → it opens SESSION_POOL chat sessions
 * first). `targets` are reported, never gated. `optional: true` scenarios run only when named with
 * `--scenario`.
 *
 * Autocannon scenarios may add `oneConnection: true` (an extra A/B at one connection, for the
 * added p50 without queueing), `ttfb: { baseline, subject }` (sequential time to first token,
 * each naming its token matcher from ttfb.mjs) and `amount: "newSessions"` (a fixed number of
 * requests, `--new-sessions`, split over the rounds, instead of a duration).
 * `kind: "ttfb"`, `kind: "retrieval"` and `kind: "memory"` scenarios run their own measurement
 * (ttfb.mjs, retrieval.mjs, memory.mjs) instead of autocannon. To add a scenario append an entry here.
 *
 * The bench tenant enables tools; the chat scenarios send `tools: false` (a turn without the tool
 * loop, comparable with runs before tools existed), and `chat-tools-offered` measures what offering
 * them costs.
 *
 * Every chat scenario's model is the mock upstream: bench.mjs starts the mesh with chat's
 * AI_PROVIDER=openai-compatible and OPENAI_BASE_URL pointing at it, and the baselines fetch the
 * same mock once, so both sides get the same answer from the same process.
 *
 * Target "gateway-untraced" (UNTRACED) is a second, identical mesh in its own workerd whose every
 * worker runs with TRACING=off and USAGE_RECORDING=off (UNTRACED_VARS): the `observability-cost*`
 * scenarios compare the same request on both meshes, so the ratio is what spans, Server-Timing
 * and the usage points cost. Each mesh has its own key (`ctx.apiKeys[target]`).
 */

/** The second mesh, with tracing and usage recording off in every worker. */
export const UNTRACED = "gateway-untraced";
export const UNTRACED_VARS = { TRACING: "off", USAGE_RECORDING: "off" };

const bearer = (ctx) => ({ authorization: `Bearer ${ctx.apiKey}` });

const json = { "content-type": "application/json" };
const bearerJson = (ctx) => ({ ...bearer(ctx), ...json });
/** The key of the mesh `target` (each mesh has its own key database). */
const bearerOn = (target) => (ctx) => ({ authorization: `Bearer ${ctx.apiKeys[target]}` });

/** Targets from ARCHITECTURE.md: gateway ≥ 50 % of bare throughput, ≤ 2 ms added p50. */
const DEFAULT_TARGETS = { minThroughputRatio: 0.5, maxAddedP50Ms: 2 };

export const MESSAGE = "What should I pack for a weekend in the mountains?";
/** The bench tenant's default (and only allowed) chat model; the mock accepts any name. */
const MODEL = "local/echo-1";
/** One OpenAI-style request body, the same bytes for the mesh and the passthrough. */
export const completionBody = (stream) =>
  JSON.stringify({
    model: MODEL,
    messages: [{ role: "user", content: MESSAGE }],
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : { stream: false }),
  });
const completionsOf = (target, stream) => ({
  target,
  method: "POST",
  path: "/v1/chat/completions",
  headers: target === "gateway" ? bearerJson : json,
  body: completionBody(stream),
});
/** Targets for the model routes: mesh vs one fetch to the same upstream. */
const COMPLETION_TARGETS = { minThroughputRatio: 0.4, maxAddedP50Ms: null, maxAddedP50MsOneConnection: 1 };

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
    name: "chat-completions",
    description:
      "POST /v1/chat/completions (non-stream) through the mesh (chat on openai-compatible → mock) vs one fetch to the mock",
    needs: ["apiKey"],
    baseline: completionsOf("passthrough-mock", false),
    subject: completionsOf("gateway", false),
    oneConnection: true,
    targets: { ...COMPLETION_TARGETS, maxCpuMsPerRequest: 0.6 },
  },
  {
    name: "chat-completions-stream",
    description:
      "POST /v1/chat/completions (stream, include_usage) through the mesh (chat on openai-compatible → mock) vs one fetch to the mock",
    needs: ["apiKey"],
    baseline: completionsOf("passthrough-mock", true),
    subject: completionsOf("gateway", true),
    oneConnection: true,
    ttfb: { baseline: "openAiContent", subject: "openAiContent" },
    targets: { ...COMPLETION_TARGETS, maxAddedTtfbP50Ms: 1 },
  },
  {
    name: "chat-ttfb",
    kind: "ttfb",
    description:
      "time to first token of a streamed POST /v1/chat turn (new session each) through the mesh vs a streamed completion fetched once from the mock (sequential)",
    needs: ["apiKey"],
    baseline: { ...completionsOf("passthrough-mock", true), token: "openAiContent" },
    subject: {
      target: "gateway",
      method: "POST",
      path: "/v1/chat",
      headers: bearerJson,
      body: JSON.stringify({ message: MESSAGE, tools: false }),
      token: "platformToken",
    },
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
    name: "chat-stream",
    description: `streamed POST /v1/chat turns continuing a pool of sessions (each connection its own) through the mesh vs a streamed completion fetched once from the mock`,
    needs: ["apiKey", "sessionPool"],
    baseline: completionsOf("passthrough-mock", true),
    subject: {
      target: "gateway",
      method: "POST",
      path: "/v1/chat",
      headers: bearerJson,
      bodies: (ctx) =>
        ctx.sessionPool.map((sessionId) => JSON.stringify({ message: MESSAGE, sessionId, tools: false })),
    },
    targets: null,
  },
  {
    // Last of the defaults: every request opens a new ChatSession DO. A fixed number of them
    // (--new-sessions), because a few thousand within a minute or two exhaust one local workerd
    // process's SQLite memory (SQLITE_NOMEM, then 503s) until idle objects are evicted.
    name: "chat-new-session",
    description:
      "streamed POST /v1/chat turns, each opening a new session, through the mesh vs a streamed completion fetched once from the mock (fixed request count)",
    needs: ["apiKey"],
    amount: "newSessions",
    baseline: completionsOf("passthrough-mock", true),
    subject: {
      target: "gateway",
      method: "POST",
      path: "/v1/chat",
      headers: bearerJson,
      body: JSON.stringify({ message: MESSAGE, tools: false }),
    },
    targets: null,
  },
  {
    name: "session-memory",
    kind: "memory",
    optional: true,
    description:
      "RSS of the mesh's workerd before/after stateless completions, turns on one session, new sessions, and after idle eviction",
    needs: ["apiKey"],
    baseline: { target: "gateway" },
    subject: { target: "gateway", method: "POST", path: "/v1/chat" },
    targets: null,
  },
  {
    name: "tools-exec",
    description:
      "POST /tools/exec current_time (gateway → tools worker: registry, schema check, run, D1 audit write) vs GET /v1/tenant on the gateway",
    optional: true,
    needs: ["apiKey"],
    baseline: { target: "gateway", method: "GET", path: "/v1/tenant", headers: bearer },
    subject: {
      target: "gateway",
      method: "POST",
      path: "/tools/exec",
      headers: bearerJson,
      body: JSON.stringify({ name: "current_time", input: { timezone: "UTC" } }),
    },
    oneConnection: true,
    targets: null,
  },
  {
    name: "chat-tools-offered",
    description:
      "POST /v1/chat (stream: false, on pooled sessions) offering the tenant's tools (a tools-worker list call per turn; the model calls none) vs the same turn with tools: false",
    optional: true,
    needs: ["apiKey", "sessionPool"],
    baseline: {
      target: "gateway",
      method: "POST",
      path: "/v1/chat",
      headers: bearerJson,
      bodies: (ctx) =>
        ctx.sessionPool.map((sessionId) =>
          JSON.stringify({ message: MESSAGE, sessionId, stream: false, tools: false }),
        ),
    },
    subject: {
      target: "gateway",
      method: "POST",
      path: "/v1/chat",
      headers: bearerJson,
      bodies: (ctx) =>
        ctx.sessionPool.map((sessionId) => JSON.stringify({ message: MESSAGE, sessionId, stream: false })),
    },
    oneConnection: true,
    targets: null,
  },
  {
    name: "observability-cost",
    description:
      "POST /v1/chat/completions (non-stream) with tracing and usage recording on (the default mesh) vs the same mesh with TRACING=off and USAGE_RECORDING=off",
    optional: true,
    needs: ["apiKey"],
    baseline: { ...completionsOf(UNTRACED, false), headers: (ctx) => ({ ...bearerOn(UNTRACED)(ctx), ...json }) },
    subject: completionsOf("gateway", false),
    oneConnection: true,
    costRatios: true,
    targets: null,
  },
  {
    name: "observability-cost-tenant",
    description:
      "GET /v1/tenant with tracing and usage recording on (the default mesh) vs the same mesh with TRACING=off and USAGE_RECORDING=off",
    optional: true,
    needs: ["apiKey"],
    baseline: { target: UNTRACED, method: "GET", path: "/v1/tenant", headers: bearerOn(UNTRACED) },
    subject: { target: "gateway", method: "GET", path: "/v1/tenant", headers: bearer },
    costRatios: true,
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
