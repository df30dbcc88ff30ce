/**
 * The example values the OpenAPI document shows (build time only). Every one is checked by
 * test/openapi.integration.test.ts against its JSON Schema in the published document and, for a
 * request body, against the zod schema the gateway really validates with — an example that the
 * API would refuse fails the test.
 */

const at = "2026-11-02T09:30:00.000Z";
const later = "2026-11-02T09:30:02.000Z";

export const EXAMPLES = {
  chatBody: { message: "What is our refund window?", rag: true, stream: false },
  chatBodyNewSession: { message: "Hello! Summarise what you can do.", model: "local/echo-1" },
  chatReply: {
    sessionId: "ses_4f1c2a9b7e",
    turnId: "turn_8d2e61",
    model: "local/echo-1",
    reply: "Refunds are accepted within 30 days of purchase [1].",
    usage: { promptTokens: 184, completionTokens: 12, totalTokens: 196 },
    sources: [
      {
        n: 1,
        docId: "refund-policy",
        chunkId: "refund-policy:v1:0",
        title: "Refund policy",
        url: "https://docs.acme.example/refunds",
        snippet: "Refunds are accepted within 30 days of purchase with the original receipt.",
        score: 0.0328,
      },
    ],
  },
  completionsBody: {
    model: "local/echo-1",
    messages: [
      { role: "system", content: "You answer in one sentence." },
      { role: "user", content: "What is a service binding?" },
    ],
  },
  completionsToolsBody: {
    messages: [{ role: "user", content: 'get_weather {"city":"Paris"}' }],
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "The weather in a city.",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ],
    stream: true,
  },
  completion: {
    id: "chatcmpl-5b0c9d",
    object: "chat.completion",
    created: 1793611800,
    model: "local/echo-1",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "A binding that lets one Worker call another.", refusal: null },
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 },
  },
  ingestBody: {
    id: "refund-policy",
    title: "Refund policy",
    url: "https://docs.acme.example/refunds",
    format: "markdown",
    text: "# Refunds\n\nRefunds are accepted within 30 days of purchase with the original receipt.",
    metadata: { team: "support", public: true },
  },
  ingestJob: {
    id: "job_0f4b6e0c1d2a4b8e9f7a6c5d4e3b2a19",
    docId: "refund-policy",
    state: "queued",
    step: null,
    chunksDone: 0,
    chunksTotal: 0,
    version: 1,
    error: null,
    createdAt: at,
    updatedAt: at,
  },
  searchBody: { query: "Within how many days of purchase are refunds accepted?", topK: 5, filter: { team: "support" } },
  searchAnswer: {
    answer: "Customers have 30 days from purchase [1].",
    sources: [
      {
        n: 1,
        docId: "refund-policy",
        chunkId: "refund-policy:v1:0",
        title: "Refund policy",
        url: "https://docs.acme.example/refunds",
        snippet: "Refunds are accepted within 30 days of purchase with the original receipt.",
        score: 0.0328,
      },
    ],
    found: true,
    cached: false,
    model: "local/echo-1",
  },
  httpTool: {
    name: "get_weather",
    description: "The current weather in a city.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    url: "https://weather.example.com/v1/current",
    method: "GET",
    auth: { type: "header", header: "x-weather-key", secret: "<the upstream API key>" },
    timeoutMs: 5000,
  },
  executeBody: { input: { city: "Paris" } },
  toolExecBody: { name: "current_time", input: {} },
  mcpServerBody: {
    name: "handbook",
    url: "https://mcp.acme.example/mcp",
    description: "The employee handbook's MCP server.",
    auth: { bearer: "<the server's token>" },
    allowTools: ["search_handbook"],
  },
  embeddingsBody: { model: "local/hash-embed-384", input: ["refund window", "shipping times"] },
  speechBody: { model: "tts-1", input: "Your order has shipped.", voice: "alloy", response_format: "wav", speed: 1 },
  mcpRequest: { jsonrpc: "2.0", id: 1, method: "tools/list" },
  widgetSessionBody: { previous: "vt_<the visitor's last token>" },
  createKeyBody: {
    name: "ci",
    scopes: ["chat", "search"],
    expiresInSeconds: 2_592_000,
    limits: { requestsPerMinute: 60, dailyTokens: 100_000 },
  },
  updateKeyBody: { limits: { requestsPerMinute: 60, dailyTokens: 100_000, burst: null } },
  health: { status: "ok", service: "crispy-gateway", time: at },
  tenantSummary: {
    id: "acme",
    name: "Acme Corporation",
    key: { id: "key_6a1f0c", scopes: ["chat", "search"], expiresAt: null },
    features: { chat: true, search: true, ingest: true, tools: true, ragByDefault: false },
    models: {
      chat: "local/echo-1",
      allowed: ["local/echo-1", "local/echo-1-fallback"],
      embeddings: "local/hash-embed-384",
    },
    rateLimits: { perKey: { perMinute: 120, burst: 20 }, tenant: { perMinute: 600, burst: 100 } },
    budgets: { dailyTokens: 200_000, monthlyTokens: 4_000_000 },
  },
  erasureJob: {
    tenantId: "acme",
    state: "running",
    step: "chat",
    steps: [
      { name: "keys", state: "done" },
      { name: "drain", state: "done" },
      { name: "chat", state: "running" },
      { name: "ingest", state: "pending" },
      { name: "rag", state: "pending" },
      { name: "tools", state: "pending" },
      { name: "ratelimit", state: "pending" },
      { name: "verify", state: "pending" },
      { name: "record", state: "pending" },
    ],
    round: 1,
    requestId: "9b3d5f0e-6c1a-4e0b-8a7d-2f4c6e8a0b1c",
    startedAt: at,
    updatedAt: later,
    finishedAt: null,
    erased: { gateway: { keys: 3 } },
    remaining: null,
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
  },
} as const;

/** The one error shape, per status: what a client of that status sees. */
export const ERROR_EXAMPLES: Record<number, { code: string; message: string; details?: Record<string, unknown> }> = {
  400: { code: "validation_failed", message: "message: must not be empty", details: { issues: [] } },
  401: { code: "unauthorized", message: "missing API key: send Authorization: Bearer <key> or x-api-key" },
  403: { code: "forbidden", message: 'this key lacks the "chat" scope' },
  404: { code: "not_found", message: 'session "ses_missing" does not exist' },
  405: {
    code: "method_not_allowed",
    message: "GET is not allowed on /mcp; allowed: POST",
    details: { allowed: ["POST"] },
  },
  409: { code: "conflict", message: 'key "key_6a1f0c" was revoked at 2026-11-02T09:30:00.000Z' },
  413: { code: "payload_too_large", message: "request body exceeds the limit of 1048576 bytes" },
  415: { code: "unsupported_media_type", message: 'expected content-type application/json, got "text/plain"' },
  429: { code: "rate_limited", message: "rate limit exceeded (per key: 120/min); retry after 1s" },
  500: { code: "internal", message: "internal error; quote the request id when reporting it" },
  502: { code: "ai_unavailable", message: "every model of the tenant failed: local/echo-1, local/echo-1-fallback" },
  503: {
    code: "upstream_unavailable",
    message: "an internal service failed while handling the request; retry shortly",
  },
};
