/**
 * Zod schemas of the gateway's JSON responses, for the OpenAPI document only (build time and
 * tests; nothing here is in the worker's bundle). The request schemas are the contracts' own
 * (`@crispy/contracts`); the responses are TypeScript interfaces there, so each gets a schema here.
 *
 * Kept honest two ways: `describes<T>()` fails the type check when a schema and its interface
 * differ (a field added to, dropped from or retyped in the interface), and
 * test/openapi.integration.test.ts validates real responses against the published schemas.
 * Response objects are open (`z.object`): a client must tolerate fields added later.
 */
import {
  AUDIT_ACTIONS,
  type ApiKeySummary,
  type AuditRecord,
  type ChatTurnReply,
  type CreatedApiKey,
  type DocumentRecord,
  ERASURE_STEPS,
  ERROR_CODES,
  type ErasureJob,
  type ErrorBody,
  type IngestJob,
  KEY_KINDS,
  KeyLimitsSchema,
  type ListedApiKey,
  type McpServerSummary,
  type MessageRecord,
  type OperatorUsageReport,
  OPERATOR_USAGE_GROUPS,
  type QuotaUsage,
  type RequestUsage,
  type SearchAnswer,
  type SearchSource,
  type SessionSummary,
  type TenantSummary,
  type TokenWindowUsage,
  type ToolActivity,
  type ToolExecution,
  type ToolExecutionRecord,
  type ToolSummary,
  USAGE_GROUPS,
  type UsageReport,
  type UsageRow,
  type UsageTotals,
} from "@crispy/contracts";
import { z } from "zod";

/** Whether A and B are the same type (not merely assignable: an optional field counts too). */
type Same<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
/** Flattens intersections and interfaces into one object type, recursively, so Same compares members. */
type Flat<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer I>
    ? Flat<I>[]
    : T extends object
      ? { [K in keyof T]: Flat<T[K]> }
      : T;

/**
 * `describes<T>()(schema)`: the schema, type-checked to describe exactly `T`. A mismatch is a
 * compile error on that line ("Expected 2 arguments"): change the schema with the interface.
 */
export function describes<T>() {
  return <S extends z.ZodType>(schema: S, ..._exact: Same<Flat<z.output<S>>, Flat<T>> extends true ? [] : [never]) =>
    schema;
}

const Time = z.iso.datetime();
const Day = z.iso.date();

export const ErrorBodySchema = describes<ErrorBody>()(
  z.object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      /** The request's id, also in the `x-request-id` header: quote it when reporting a problem. */
      requestId: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
);

export const HealthSchema = z.object({
  status: z.literal("ok"),
  service: z.literal("crispy-gateway"),
  time: Time,
});

const Window = z.object({ perMinute: z.number().int(), burst: z.number().int() });

export const TenantSummarySchema = describes<TenantSummary>()(
  z.object({
    id: z.string(),
    name: z.string(),
    key: z.object({ id: z.string(), scopes: z.array(z.string()), expiresAt: Time.nullable() }),
    features: z.record(z.string(), z.boolean()),
    models: z.object({ chat: z.string(), allowed: z.array(z.string()), embeddings: z.string() }),
    rateLimits: z.object({ perKey: Window, tenant: Window }),
    budgets: z.object({ dailyTokens: z.number().int(), monthlyTokens: z.number().int() }),
  }),
);

export const MeshStatusSchema = z.object({
  tenantId: z.string(),
  workers: z.array(
    z.object({ name: z.string(), ok: z.boolean(), ms: z.number().optional(), error: z.string().optional() }),
  ),
  ok: z.boolean(),
});

export const TokenWindowUsageSchema = describes<TokenWindowUsage>()(
  z.object({
    limit: z.number().int(),
    used: z.number().int(),
    reserved: z.number().int(),
    remaining: z.number().int(),
    resetsAt: Time,
  }),
);

const ApiKeyShape = {
  id: z.string(),
  tenantId: z.string(),
  name: z.string().nullable(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  tools: z.array(z.string()).nullable(),
  limits: KeyLimitsSchema.nullable(),
  kind: z.enum(KEY_KINDS),
  publishable: z
    .object({
      origins: z.array(z.string()),
      visitorLimits: z.object({ requestsPerMinute: z.number().int(), burst: z.number().int() }),
    })
    .optional()
    .meta({ description: "A publishable key's page origins and per-visitor rate; absent for a secret key." }),
  createdAt: Time,
  expiresAt: Time.nullable(),
  revokedAt: Time.nullable(),
  lastUsedAt: Time.nullable(),
};

export const ApiKeySchema = describes<ApiKeySummary>()(z.object(ApiKeyShape));

export const CreatedApiKeySchema = describes<CreatedApiKey>()(
  z.object({ ...ApiKeyShape, key: z.string().meta({ description: "The key itself: shown once, never again." }) }),
);

export const ListedApiKeySchema = describes<ListedApiKey>()(
  z.object({
    ...ApiKeyShape,
    usage: z.object({ daily: TokenWindowUsageSchema, monthly: TokenWindowUsageSchema }).nullable().optional(),
  }),
);

export const KeyListSchema = z.object({ keys: z.array(ListedApiKeySchema) });

export const AuditRecordSchema = describes<AuditRecord>()(
  z.object({
    id: z.string(),
    tenantId: z.string(),
    at: Time,
    actor: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    target: z.string().nullable(),
    requestId: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
);

/** A page of `item`, newest or oldest first as the route says; `nextCursor` null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const QuotaUsageSchema = describes<QuotaUsage>()(
  z.object({ daily: TokenWindowUsageSchema, monthly: TokenWindowUsageSchema, openReservations: z.number().int() }),
);

const TotalsShape = {
  requests: z.number().int(),
  errors4xx: z.number().int(),
  errors5xx: z.number().int(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  modelCalls: z.number().int(),
  cacheHits: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number(),
};
export const UsageTotalsSchema = describes<UsageTotals>()(z.object(TotalsShape));
export const UsageRowSchema = describes<UsageRow>()(z.object({ ...TotalsShape, group: z.string() }));

const Range = z.object({ from: Day, to: Day });

const UsageReportShape = {
  range: Range,
  groupBy: z.enum(USAGE_GROUPS),
  keyId: z.string().nullable(),
  rows: z.array(UsageRowSchema),
  totals: UsageTotalsSchema,
};
describes<UsageReport>()(z.object(UsageReportShape));

const RequestUsageShape = {
  requestId: z.string(),
  request: z
    .object({
      ts: z.number(),
      requestId: z.string(),
      keyId: z.string().nullable(),
      route: z.string(),
      method: z.string(),
      status: z.number().int(),
      latencyMs: z.number(),
      model: z.string().nullable(),
    })
    .nullable(),
  modelCalls: z.array(
    z.object({
      ts: z.number(),
      requestId: z.string(),
      keyId: z.string().nullable(),
      worker: z.enum(["chat", "rag"]),
      operation: z.enum(["chat", "search", "embed"]),
      model: z.string(),
      promptTokens: z.number().int(),
      completionTokens: z.number().int(),
      latencyMs: z.number(),
      ttftMs: z.number().nullable(),
      cacheHit: z.boolean(),
      outcome: z.enum(["ok", "error", "aborted"]),
      costUsd: z.number(),
    }),
  ),
};
describes<RequestUsage>()(z.object(RequestUsageShape));

/** `GET /v1/usage`: the budget readout, plus a report (`from`/`to`/`groupBy`) and/or a request's usage (`requestId`). */
export const UsageAnswerSchema = describes<QuotaUsage & Partial<UsageReport> & Partial<RequestUsage>>()(
  QuotaUsageSchema.extend(z.object(UsageReportShape).partial().shape).extend(
    z.object(RequestUsageShape).partial().shape,
  ),
);

export const OperatorUsageReportSchema = describes<OperatorUsageReport>()(
  z.object({
    range: Range,
    groupBy: z.enum(OPERATOR_USAGE_GROUPS),
    rows: z.array(UsageRowSchema),
    totals: UsageTotalsSchema,
    unavailable: z.array(z.string()),
  }),
);

export const SessionSummarySchema = describes<SessionSummary>()(
  z.object({
    id: z.string(),
    title: z.string(),
    messageCount: z.number().int(),
    createdAt: Time,
    updatedAt: Time,
  }),
);

export const MessageRecordSchema = describes<MessageRecord>()(
  z.object({
    seq: z.number().int(),
    turnId: z.string(),
    role: z.enum(["system", "user", "assistant", "tool"]),
    content: z.string(),
    tokens: z.number().int(),
    createdAt: Time,
    toolCalls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).optional(),
    toolCallId: z.string().optional(),
  }),
);

export const DeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });
export const RemovedSchema = z.object({ deleted: z.literal(true) });

export const SearchSourceSchema = describes<SearchSource>()(
  z.object({
    n: z.number().int().meta({ description: "The citation number the answer uses, `[n]`." }),
    docId: z.string(),
    chunkId: z.string(),
    title: z.string(),
    url: z.string().nullable(),
    snippet: z.string(),
    score: z.number(),
  }),
);

export const ToolActivitySchema = describes<ToolActivity>()(
  z.object({
    id: z.string(),
    name: z.string(),
    arguments: z.string(),
    status: z.enum(["ok", "error", "timeout", "invalid", "denied"]),
    output: z.string(),
    truncated: z.boolean(),
    durationMs: z.number(),
    executionId: z.string().nullable(),
  }),
);

const UsageTokens = z.object({
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
});

/** The turn's timings leave in `Server-Timing`, not in the body. */
export const ChatTurnReplySchema = describes<Omit<ChatTurnReply, "timings">>()(
  z.object({
    sessionId: z.string(),
    turnId: z.string(),
    model: z.string(),
    reply: z.string(),
    usage: UsageTokens,
    sources: z.array(SearchSourceSchema).optional(),
    tools: z.array(ToolActivitySchema).optional(),
  }),
);

/** OpenAI's `chat.completion` (workers/chat/src/openai.ts builds it). */
export const ChatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int().meta({ description: "Unix seconds." }),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal("assistant"),
        content: z.string().nullable(),
        tool_calls: z
          .array(
            z.object({
              id: z.string(),
              type: z.literal("function"),
              function: z.object({ name: z.string(), arguments: z.string() }),
            }),
          )
          .optional(),
        refusal: z.null(),
      }),
      finish_reason: z.enum(["stop", "length", "tool_calls"]),
    }),
  ),
  usage: z.object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
  }),
});

export const ModelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() }),
  ),
});

export const EmbeddingListSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({
      object: z.literal("embedding"),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string()]).meta({
        description: 'The vector: numbers, or with `encoding_format: "base64"` its little-endian float32 bytes.',
      }),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});

export const IngestJobSchema = describes<IngestJob>()(
  z.object({
    id: z.string(),
    docId: z.string(),
    state: z.enum(["queued", "running", "done", "failed", "unchanged"]),
    step: z.enum(["parse", "chunk", "embed", "index"]).nullable(),
    chunksDone: z.number().int(),
    chunksTotal: z.number().int(),
    version: z.number().int(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: Time,
    updatedAt: Time,
  }),
);

export const DocumentRecordSchema = describes<DocumentRecord>()(
  z.object({
    id: z.string(),
    title: z.string(),
    source: z.string().nullable(),
    url: z.string().nullable(),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    contentHash: z.string(),
    version: z.number().int(),
    chunkCount: z.number().int(),
    contentType: z.string(),
    bytes: z.number().int(),
    createdAt: Time,
    updatedAt: Time,
  }),
);

/** The search's timings leave in `Server-Timing`, not in the body. */
export const SearchAnswerSchema = describes<Omit<SearchAnswer, "timings">>()(
  z.object({
    answer: z.string(),
    sources: z.array(SearchSourceSchema),
    found: z.boolean(),
    cached: z.boolean(),
    model: z.string(),
  }),
);

/** A tool as the API lists it: ToolSummary with its parameters as JSON (not as JSON text). */
export const ToolSchema = describes<Omit<ToolSummary, "parametersJson"> & { parameters: Record<string, unknown> }>()(
  z.object({
    name: z.string(),
    description: z.string(),
    kind: z.enum(["builtin", "http", "mcp"]),
    mcp: z.object({ server: z.string(), tool: z.string() }).optional(),
    http: z
      .object({
        url: z.string(),
        method: z.string(),
        headers: z.record(z.string(), z.string()),
        auth: z.object({ type: z.enum(["bearer", "header"]), header: z.string().nullable() }).nullable(),
        timeoutMs: z.number().int(),
      })
      .optional(),
    createdAt: Time.optional(),
    updatedAt: Time.optional(),
    parameters: z.record(z.string(), z.unknown()).meta({ description: "JSON Schema (an object schema) of the input." }),
  }),
);

export const ToolListSchema = z.object({ tools: z.array(ToolSchema) });

/** One execution as the API answers it: `output` is parsed JSON when the tool returned JSON, else text. */
export const ToolExecutionSchema = describes<Omit<ToolExecution, "timings" | "output"> & { output: unknown }>()(
  z.object({
    executionId: z.string(),
    tool: z.string(),
    status: z.enum(["ok", "error", "timeout", "invalid", "denied"]),
    output: z.unknown(),
    truncated: z.boolean(),
    durationMs: z.number(),
    outputBytes: z.number().int(),
  }),
);

export const ToolExecutionRecordSchema = describes<ToolExecutionRecord>()(
  z.object({
    id: z.string(),
    tool: z.string(),
    keyId: z.string().nullable(),
    sessionId: z.string().nullable(),
    caller: z.enum(["api", "chat", "completions", "mcp"]),
    inputDigest: z.string(),
    status: z.enum(["ok", "error", "timeout", "invalid", "denied"]),
    durationMs: z.number(),
    outputBytes: z.number().int(),
    error: z.string().nullable(),
    createdAt: Time,
  }),
);

export const McpServerSchema = describes<McpServerSummary>()(
  z.object({
    name: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    hasAuth: z.boolean(),
    allowTools: z.array(z.string()).nullable(),
    timeoutMs: z.number().int(),
    tools: z.number().int(),
    toolNames: z.array(z.string()),
    skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
    refreshedAt: Time.nullable(),
    checkedAt: Time.nullable(),
    lastError: z.string().nullable(),
    createdAt: Time,
  }),
);

export const McpServerListSchema = z.object({ servers: z.array(McpServerSchema) });

const StoreCounts = z.record(z.string(), z.number().int());

export const ErasureJobSchema = describes<ErasureJob>()(
  z.object({
    tenantId: z.string(),
    state: z.enum(["running", "verifying", "done", "failed"]),
    step: z.enum(ERASURE_STEPS).nullable(),
    steps: z.array(z.object({ name: z.enum(ERASURE_STEPS), state: z.enum(["pending", "running", "done"]) })),
    round: z.number().int(),
    requestId: z.string(),
    startedAt: Time,
    updatedAt: Time,
    finishedAt: Time.nullable(),
    erased: z.record(z.string(), StoreCounts),
    remaining: z.record(z.string(), StoreCounts).nullable(),
    attempts: z.number().int(),
    nextAttemptAt: Time.nullable(),
    lastError: z.object({ step: z.enum(ERASURE_STEPS), code: z.string(), message: z.string(), at: Time }).nullable(),
  }),
);

/** A JSON-RPC 2.0 message to `POST /mcp` (MCP's Streamable HTTP transport, one request per POST). */
export const JsonRpcRequestSchema = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number()]).optional(),
  method: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
});

export const JsonRpcResponseSchema = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string(), z.number(), z.null()]),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }).optional(),
});

/** `POST /v1/documents` as `multipart/form-data`: the file plus the JSON body's optional fields as text. */
export const DocumentUploadSchema = z.object({
  file: z.string().meta({
    contentMediaType: "application/octet-stream",
    description: "The document: .txt, .md, .html, .json, .csv or .pdf, at most 10 MiB.",
  }),
  id: z.string().max(96).optional(),
  title: z.string().max(300).optional(),
  source: z.string().max(300).optional(),
  url: z.string().max(2048).optional(),
  metadata: z.string().max(8192).optional().meta({ description: "A JSON object, as text." }),
});

export const IngestQuerySchema = z.object({
  wait: z
    .enum(["true", "false"])
    .optional()
    .meta({ description: "true: wait up to ~10 s and answer 200 once the job has finished." }),
});
