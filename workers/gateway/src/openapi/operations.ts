/**
 * Every public route of the gateway as the OpenAPI document describes it: THE place to add a
 * route to the spec (build time only; never imported by the worker). One entry per router line
 * in src/router.ts — test/openapi.integration.test.ts fails while a router route is missing here
 * or an entry here has no router route. Request schemas are the contracts' zod schemas the
 * handler validates with; response schemas are in ./schemas.ts; examples in ./examples.ts.
 *
 * What an entry implies (document.ts): the auth scheme and its errors (a key route: 400 tenant,
 * 401, 403, 404 tenant, 429, 503; an operator route: 401, 429), a JSON body's 400/413/415, the
 * `x-tenant-id` header for key routes, and `{name}` path parameters from `:name`.
 */
import {
  AuditQuerySchema,
  ChatBodySchema,
  CreateKeyBodySchema,
  DocumentIdSchema,
  EmbeddingsBodySchema,
  EraseTenantQuerySchema,
  ExecuteToolBodySchema,
  ExecutionsQuerySchema,
  HttpToolBodySchema,
  IngestJsonBodySchema,
  McpServerBodySchema,
  McpServerNameSchema,
  OpenAiChatBodySchema,
  OperatorAuditQuerySchema,
  OperatorUsageQuerySchema,
  PageQuerySchema,
  type Scope,
  SearchBodySchema,
  SessionIdSchema,
  SpeechBodySchema,
  TenantIdSchema,
  TOOL_REF_MESSAGE,
  TOOL_REF_PATTERN,
  ToolExecBodySchema,
  UpdateKeyBodySchema,
  UsageQuerySchema,
  WidgetSessionBodySchema,
  WidgetSessionSchema,
} from "@crispy/contracts";
import { z } from "zod";
import { EXAMPLES as X } from "./examples";
import * as S from "./schemas";

export type Method = "get" | "post" | "put" | "patch" | "delete";

/**
 * Who may call: nobody in particular; an API key of the tenant (with `scope`, if given; `visitor`:
 * a widget visitor's token too); a publishable key from one of its origins; or the operator.
 */
export type Auth =
  | { kind: "none" }
  | { kind: "key"; scope?: Scope; visitor?: boolean }
  | { kind: "publishable" }
  | { kind: "operator" };

export interface Example {
  summary: string;
  value: unknown;
}

export interface JsonContent {
  schema: z.ZodType;
  examples?: Record<string, Example>;
}

export interface Reply {
  status: number;
  description: string;
  json?: JsonContent;
  /** A `text/event-stream` answer: what its events are. */
  sse?: string;
  /** A text answer's media type (`text/html`, `text/javascript`). */
  text?: string;
  /** Binary answers by media type (audio). */
  binary?: readonly string[];
  /** Response headers beyond `x-request-id` (which every response has): name → description. */
  headers?: Record<string, string>;
}

export interface Operation {
  method: Method;
  /** As in the router: `/v1/sessions/:sessionId`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** Path parameters' schemas (by name); a parameter not named here is a plain string. */
  params?: Record<string, z.ZodType>;
  /** An object schema: each property is a query parameter. */
  query?: z.ZodType;
  body?: JsonContent & { multipart?: z.ZodType; description?: string; optional?: boolean };
  replies: Reply[];
  /** Error statuses beyond those the auth and body imply (e.g. 409, 502). */
  errors?: number[];
  /** For the seeds' paths: the operationId of the route they are an alias of. */
  aliasOf?: string;
}

const none: Auth = { kind: "none" };
const anyKey: Auth = { kind: "key" };
const key = (scope: Scope): Auth => ({ kind: "key", scope });
const operator: Auth = { kind: "operator" };
const publishable: Auth = { kind: "publishable" };

const ToolRef = z.string().regex(TOOL_REF_PATTERN, TOOL_REF_MESSAGE);
const JobId = z.string().regex(/^job_[0-9a-f]{32}$/);

const ok = (description: string, schema: z.ZodType, examples?: Record<string, Example>): Reply => ({
  status: 200,
  description,
  json: examples ? { schema, examples } : { schema },
});
const example = (summary: string, value: unknown) => ({ example: { summary, value } });

const CHAT_EVENTS =
  "Server-sent events: `sources` (RAG turns, before the first token), `tool_call` / `tool_result` (the tool loop), `token` (`{ token }`, as the model emits them), then `done` (`{ sessionId, turnId, model, usage, sources? }`) or `error` (`{ code, message }`). Comment lines keep long waits open.";
const OPENAI_CHUNKS =
  "OpenAI `chat.completion.chunk` objects as `data:` lines (tool calls as `delta.tool_calls`), then `data: [DONE]`.";

const sessionParams = { sessionId: SessionIdSchema };
const documentParams = { documentId: DocumentIdSchema };
const toolParams = { name: ToolRef };
const serverParams = { name: McpServerNameSchema };
const tenantParams = { tenantId: TenantIdSchema };

const chatTurn: Omit<Operation, "method" | "path" | "operationId" | "tag"> = {
  summary: "One chat turn",
  description:
    "Streams SSE by default; JSON with `stream: false`. Without `sessionId` a new session is made (its id is in `x-session-id` and in `done`). `rag: true` answers from the tenant's documents with `[n]` citations.",
  auth: key("chat"),
  body: {
    schema: ChatBodySchema,
    examples: {
      rag: { summary: "A RAG turn, answered as JSON", value: X.chatBody },
      stream: { summary: "A new session, streamed", value: X.chatBodyNewSession },
    },
  },
  replies: [
    {
      status: 200,
      description: "The turn: an event stream, or the whole reply with `stream: false`.",
      sse: CHAT_EVENTS,
      json: { schema: S.ChatTurnReplySchema, examples: { rag: { summary: "A RAG answer", value: X.chatReply } } },
      headers: { "x-session-id": "The session the turn belongs to (new or given)." },
    },
  ],
  errors: [502],
};

const searchOperation: Omit<Operation, "method" | "path" | "operationId" | "tag"> = {
  summary: "Search the tenant's documents",
  description:
    "Hybrid retrieval (BM25 + vectors, fused) and an answer citing `[n]`, each `[n]` one of `sources`; `found: false` when nothing relevant was found. `stream: true` answers as SSE: `sources`, `token`…, `done`.",
  auth: key("search"),
  body: { schema: SearchBodySchema, examples: { filter: { summary: "Filtered by metadata", value: X.searchBody } } },
  replies: [
    {
      status: 200,
      description: "The answer and its sources (or, with `stream: true`, an event stream).",
      json: { schema: S.SearchAnswerSchema, examples: example("An answer with one source", X.searchAnswer) },
      sse: "Server-sent events: `sources`, then `token`…, then `done`.",
    },
  ],
  errors: [502],
};

const ingestOperation: Omit<Operation, "method" | "path" | "operationId" | "tag"> = {
  summary: "Add or update a document",
  description:
    "JSON text (`text`, plain, Markdown or HTML) or a `multipart/form-data` upload (`file`: .txt, .md, .html, .json, .csv, .pdf; ≤ 10 MiB). Answers `202` with the ingest job (`Location` names it); `?wait=true` waits up to ~10 s and answers `200` once it has finished. The same content again is `unchanged`.",
  auth: key("ingest"),
  query: S.IngestQuerySchema,
  body: {
    schema: IngestJsonBodySchema,
    multipart: S.DocumentUploadSchema,
    examples: { markdown: { summary: "A Markdown document", value: X.ingestBody } },
  },
  replies: [
    {
      status: 202,
      description: "The job, started.",
      json: { schema: S.IngestJobSchema, examples: example("A queued job", X.ingestJob) },
      headers: { location: "The job's status route, `/v1/ingest/jobs/{jobId}`." },
    },
    {
      status: 200,
      description: "With `?wait=true`: the job, finished (done, unchanged or failed).",
      json: { schema: S.IngestJobSchema },
      headers: { location: "The job's status route." },
    },
  ],
  errors: [409],
};

const historyOperation: Omit<Operation, "method" | "path" | "operationId" | "tag"> = {
  summary: "A session's messages",
  description: "Oldest first, paged. Another tenant's session id is a 404.",
  auth: key("chat"),
  params: sessionParams,
  query: PageQuerySchema,
  replies: [ok("A page of messages.", S.pageOf(S.MessageRecordSchema))],
};

const deleteSessionOperation: Omit<Operation, "method" | "path" | "operationId" | "tag"> = {
  summary: "Delete a session",
  auth: key("chat"),
  params: sessionParams,
  replies: [ok("Deleted.", S.DeletedSchema)],
};

const toolExecReply: Reply = ok(
  "The execution. A tool that ran and failed is a 200 whose `status` says so (`error`, `timeout`, `invalid`, `denied`).",
  S.ToolExecutionSchema,
);

export const OPERATIONS: Operation[] = [
  // System and docs
  {
    method: "get",
    path: "/health",
    operationId: "health",
    tag: "System",
    summary: "Gateway liveness",
    description: "No tenant, no key, no call to any internal worker.",
    auth: none,
    replies: [ok("Alive.", S.HealthSchema, example("Alive", X.health))],
  },
  {
    method: "get",
    path: "/openapi.json",
    operationId: "openApiDocument",
    tag: "System",
    summary: "This OpenAPI 3.1 document",
    description: "Generated at build time from the zod contracts (docs/api.md).",
    auth: none,
    replies: [ok("The document.", z.record(z.string(), z.unknown()))],
  },
  {
    method: "get",
    path: "/docs",
    operationId: "docsPage",
    tag: "System",
    summary: "API reference page",
    description: "This document rendered in the browser (Swagger UI, served by the gateway itself: no CDN).",
    auth: none,
    replies: [{ status: 200, description: "The page.", text: "text/html" }],
  },
  {
    method: "get",
    path: "/console",
    operationId: "consolePage",
    tag: "System",
    summary: "Usage console",
    description: "Usage charts per day, key and model; the page asks for a key and calls `GET /v1/usage` with it.",
    auth: none,
    replies: [{ status: 200, description: "The page.", text: "text/html" }],
  },
  // The web chat widget (docs/widget.md)
  {
    method: "get",
    path: "/widget.js",
    operationId: "widgetScript",
    tag: "Widget",
    summary: "The embeddable chat widget",
    description:
      'One `<script src="/widget.js" data-key="pk_…">` on a page: a web component that chats with the tenant through a publishable key. Cached five minutes, then revalidated by ETag.',
    auth: none,
    replies: [
      {
        status: 200,
        description: "The script.",
        text: "text/javascript",
        headers: { etag: "The script's version." },
      },
      { status: 304, description: "Not modified (`If-None-Match` matched)." },
    ],
  },
  {
    method: "post",
    path: "/v1/widget/session",
    operationId: "widgetSession",
    tag: "Widget",
    summary: "A visitor token for a page's widget",
    description:
      "From a page on one of the publishable key's origins (`Origin`): a short-lived signed visitor token for `POST /v1/chat` (and `POST /v1/search` with that scope). `previous`, the visitor's last token, keeps its visitor id (and its sessions). Limited per client IP at the key's visitor rate.",
    auth: publishable,
    body: {
      schema: WidgetSessionBodySchema,
      optional: true,
      examples: { renew: { summary: "Renewing a visitor's token", value: X.widgetSessionBody } },
    },
    replies: [ok("The visitor's token.", WidgetSessionSchema)],
  },
  // Tenant
  {
    method: "get",
    path: "/v1/tenant",
    operationId: "tenantSummary",
    tag: "Tenant",
    summary: "The caller's tenant",
    description: "Name, the key's scopes, models, limits and budgets.",
    auth: anyKey,
    replies: [ok("The tenant.", S.TenantSummarySchema, example("acme", X.tenantSummary))],
  },
  {
    method: "get",
    path: "/v1/mesh",
    operationId: "meshStatus",
    tag: "Tenant",
    summary: "Ping every internal worker",
    description: "Each internal worker pinged over RPC with the caller's tenant, with its latency.",
    auth: anyKey,
    replies: [ok("Each worker's answer.", S.MeshStatusSchema)],
  },
  {
    method: "get",
    path: "/v1/keys",
    operationId: "listOwnKeys",
    tag: "Tenant",
    summary: "The tenant's API keys",
    description: "With each key's own limits and, for budgeted keys, what they spent; never the keys themselves.",
    auth: key("admin"),
    replies: [ok("The keys.", S.KeyListSchema)],
  },
  {
    method: "get",
    path: "/v1/usage",
    operationId: "usage",
    tag: "Usage and audit",
    summary: "Usage against the budgets, reports, one request's usage",
    description:
      "Without parameters: the daily and monthly budget windows. With `from`, `to`, `groupBy` or `keyId`: a report over those UTC days (≤ 93). With `requestId`: what was recorded for that request. A key without `admin` sees only its own usage.",
    auth: anyKey,
    query: UsageQuerySchema,
    replies: [ok("The usage.", S.UsageAnswerSchema)],
  },
  {
    method: "get",
    path: "/v1/audit",
    operationId: "tenantAudit",
    tag: "Usage and audit",
    summary: "The tenant's administrative actions",
    description: "Keys, tools, MCP servers and documents changed, newest first, paged.",
    auth: key("admin"),
    query: AuditQuerySchema,
    replies: [ok("A page of audit rows.", S.pageOf(S.AuditRecordSchema))],
  },
  // Chat
  {
    method: "post",
    path: "/v1/chat",
    operationId: "chat",
    tag: "Chat",
    ...chatTurn,
    auth: { kind: "key", scope: "chat", visitor: true },
  },
  {
    method: "get",
    path: "/v1/sessions",
    operationId: "listSessions",
    tag: "Chat",
    summary: "The tenant's sessions",
    description: "Newest first, paged.",
    auth: key("chat"),
    query: PageQuerySchema,
    replies: [ok("A page of sessions.", S.pageOf(S.SessionSummarySchema))],
  },
  { method: "get", path: "/v1/sessions/:sessionId", operationId: "sessionHistory", tag: "Chat", ...historyOperation },
  {
    method: "delete",
    path: "/v1/sessions/:sessionId",
    operationId: "deleteSession",
    tag: "Chat",
    ...deleteSessionOperation,
  },
  {
    method: "post",
    path: "/v1/sessions/:sessionId/reset",
    operationId: "resetSession",
    tag: "Chat",
    summary: "Clear a session's messages",
    description: "The session stays, empty.",
    auth: key("chat"),
    params: sessionParams,
    replies: [ok("The session, emptied.", S.SessionSummarySchema)],
  },
  // OpenAI-compatible
  {
    method: "post",
    path: "/v1/chat/completions",
    operationId: "chatCompletions",
    tag: "OpenAI-compatible",
    summary: "Chat completions (OpenAI's format)",
    description:
      "Stateless; tool calling included. Every OpenAI field is honoured or refused with a 400 naming it (docs/openai.md). Extensions: `session_id` records the exchange in a session, `server_tools` lets the platform run the tenant's tools.",
    auth: key("chat"),
    body: {
      schema: OpenAiChatBodySchema,
      examples: {
        plain: { summary: "A system and a user message", value: X.completionsBody },
        tools: { summary: "A client-side tool, streamed", value: X.completionsToolsBody },
      },
    },
    replies: [
      {
        status: 200,
        description: "A `chat.completion`, or with `stream: true` its chunks.",
        json: { schema: S.ChatCompletionSchema, examples: example("One answer", X.completion) },
        sse: OPENAI_CHUNKS,
      },
    ],
    errors: [502],
  },
  {
    method: "get",
    path: "/v1/models",
    operationId: "models",
    tag: "OpenAI-compatible",
    summary: "The tenant's chat models",
    auth: anyKey,
    replies: [ok("The models the tenant allows.", S.ModelListSchema)],
  },
  {
    method: "post",
    path: "/v1/embeddings",
    operationId: "embeddings",
    tag: "OpenAI-compatible",
    summary: "Embeddings (OpenAI's format)",
    description: "The tenant's embeddings model over one text or many; `encoding_format: base64` is float32 bytes.",
    auth: key("search"),
    body: { schema: EmbeddingsBodySchema, examples: { two: { summary: "Two inputs", value: X.embeddingsBody } } },
    replies: [ok("One vector per input.", S.EmbeddingListSchema)],
    errors: [502],
  },
  {
    method: "post",
    path: "/v1/audio/speech",
    operationId: "speech",
    tag: "OpenAI-compatible",
    summary: "Text to speech (OpenAI's format)",
    description:
      "Budgeted at 4 input characters per token; the audio streams as it is made. OpenAI's model names mean the tenant's default speech model (docs/speech.md).",
    auth: key("chat"),
    body: { schema: SpeechBodySchema, examples: { wav: { summary: "A WAV file", value: X.speechBody } } },
    replies: [
      {
        status: 200,
        description: "The audio, in the asked (or the model's own) format.",
        binary: ["audio/wav", "audio/mpeg", "audio/opus", "audio/aac", "audio/flac", "audio/pcm"],
        headers: { "x-speech-model": "The model that spoke." },
      },
    ],
    errors: [502],
  },
  // Documents and search
  { method: "post", path: "/v1/documents", operationId: "ingestDocument", tag: "Documents", ...ingestOperation },
  {
    method: "get",
    path: "/v1/documents",
    operationId: "listDocuments",
    tag: "Documents",
    summary: "The tenant's documents",
    auth: key("search"),
    query: PageQuerySchema,
    replies: [ok("A page of documents.", S.pageOf(S.DocumentRecordSchema))],
  },
  {
    method: "get",
    path: "/v1/documents/:documentId",
    operationId: "getDocument",
    tag: "Documents",
    summary: "One document",
    description: "Ids may be sent percent-encoded (`a%3Ab` is `a:b`).",
    auth: key("search"),
    params: documentParams,
    replies: [ok("The document.", S.DocumentRecordSchema)],
  },
  {
    method: "delete",
    path: "/v1/documents/:documentId",
    operationId: "deleteDocument",
    tag: "Documents",
    summary: "Delete a document",
    description: "Its chunks, vectors and every stored version's file.",
    auth: key("ingest"),
    params: documentParams,
    replies: [ok("Deleted.", S.DeletedSchema)],
  },
  {
    method: "get",
    path: "/v1/ingest/jobs/:jobId",
    operationId: "ingestJob",
    tag: "Documents",
    summary: "An ingest job's progress",
    auth: key("ingest"),
    params: { jobId: JobId },
    replies: [ok("The job.", S.IngestJobSchema, example("A queued job", X.ingestJob))],
  },
  {
    method: "post",
    path: "/v1/search",
    operationId: "search",
    tag: "Documents",
    ...searchOperation,
    auth: { kind: "key", scope: "search", visitor: true },
  },
  // Tools
  {
    method: "get",
    path: "/v1/tools",
    operationId: "listTools",
    tag: "Tools",
    summary: "The tools this key may call",
    description: "Built-ins, the tenant's HTTP tools and its MCP servers' tools (`<server>.<tool>`), with schemas.",
    auth: key("tools"),
    replies: [ok("The tools.", S.ToolListSchema)],
  },
  {
    method: "post",
    path: "/v1/tools",
    operationId: "createTool",
    tag: "Tools",
    summary: "Add an HTTP tool",
    description: "https only (no private, loopback or metadata addresses); the auth secret is write-only.",
    auth: key("admin"),
    body: { schema: HttpToolBodySchema, examples: { weather: { summary: "A GET tool", value: X.httpTool } } },
    replies: [{ status: 201, description: "The tool.", json: { schema: S.ToolSchema } }],
    errors: [409],
  },
  {
    method: "get",
    path: "/v1/tools/executions",
    operationId: "toolExecutions",
    tag: "Tools",
    summary: "The tenant's tool audit",
    description: "Every execution, allowed or not, newest first.",
    auth: key("tools"),
    query: ExecutionsQuerySchema,
    replies: [ok("A page of executions.", S.pageOf(S.ToolExecutionRecordSchema))],
  },
  {
    method: "put",
    path: "/v1/tools/:name",
    operationId: "replaceTool",
    tag: "Tools",
    summary: "Create or replace an HTTP tool",
    description: "The body's `name` may be left out; when given it must be the path's.",
    auth: key("admin"),
    params: toolParams,
    body: { schema: HttpToolBodySchema, examples: { weather: { summary: "A GET tool", value: X.httpTool } } },
    replies: [ok("Replaced.", S.ToolSchema), { status: 201, description: "Created.", json: { schema: S.ToolSchema } }],
  },
  {
    method: "delete",
    path: "/v1/tools/:name",
    operationId: "deleteTool",
    tag: "Tools",
    summary: "Remove an HTTP tool",
    auth: key("admin"),
    params: toolParams,
    replies: [ok("Removed.", S.RemovedSchema)],
  },
  {
    method: "post",
    path: "/v1/tools/:name/execute",
    operationId: "executeTool",
    tag: "Tools",
    summary: "Run one tool",
    description:
      "The input is validated against the tool's schema (a 400 names the field); every execution is audited.",
    auth: key("tools"),
    params: toolParams,
    body: { schema: ExecuteToolBodySchema, examples: { city: { summary: "Tool input", value: X.executeBody } } },
    replies: [toolExecReply],
  },
  {
    method: "get",
    path: "/v1/mcp-servers",
    operationId: "listMcpServers",
    tag: "Tools",
    summary: "The tenant's remote MCP servers",
    auth: key("tools"),
    replies: [ok("The servers and their tools.", S.McpServerListSchema)],
  },
  {
    method: "post",
    path: "/v1/mcp-servers",
    operationId: "createMcpServer",
    tag: "Tools",
    summary: "Register a remote MCP server",
    description:
      "Its tools join the registry as `<server>.<tool>`. A server that cannot be reached is still registered, with `lastError`.",
    auth: key("admin"),
    body: {
      schema: McpServerBodySchema,
      examples: { bearer: { summary: "With a bearer token", value: X.mcpServerBody } },
    },
    replies: [{ status: 201, description: "The server.", json: { schema: S.McpServerSchema } }],
    errors: [409],
  },
  {
    method: "delete",
    path: "/v1/mcp-servers/:name",
    operationId: "deleteMcpServer",
    tag: "Tools",
    summary: "Remove a remote MCP server",
    auth: key("admin"),
    params: serverParams,
    replies: [ok("Removed.", S.RemovedSchema)],
  },
  {
    method: "post",
    path: "/v1/mcp-servers/:name/refresh",
    operationId: "refreshMcpServer",
    tag: "Tools",
    summary: "List a remote MCP server's tools again",
    description: "A failed refresh answers 200 with the last good tool list and `lastError`.",
    auth: key("admin"),
    params: serverParams,
    replies: [ok("The server.", S.McpServerSchema)],
  },
  // MCP (the router's `all("/mcp")`: POST, and 405 for the rest)
  {
    method: "post",
    path: "/mcp",
    operationId: "mcp",
    tag: "MCP",
    summary: "The platform as an MCP server",
    description:
      "Streamable HTTP, stateless, one JSON-RPC request per POST: `initialize`, `tools/list` and `tools/call` over the tools this key may call (docs/mcp.md). Errors of the MCP exchange itself are JSON-RPC errors.",
    auth: key("tools"),
    body: { schema: S.JsonRpcRequestSchema, examples: { list: { summary: "tools/list", value: X.mcpRequest } } },
    replies: [ok("The JSON-RPC response.", S.JsonRpcResponseSchema)],
  },
  {
    method: "get",
    path: "/mcp",
    operationId: "mcpGet",
    tag: "MCP",
    summary: "Not offered: no standalone SSE stream",
    auth: none,
    replies: [],
    errors: [405],
  },
  {
    method: "delete",
    path: "/mcp",
    operationId: "mcpDelete",
    tag: "MCP",
    summary: "Not offered: no sessions",
    auth: none,
    replies: [],
    errors: [405],
  },
  // The seeds' paths, kept as aliases
  { method: "post", path: "/chat", operationId: "chatAlias", tag: "Seed aliases", aliasOf: "chat", ...chatTurn },
  {
    method: "post",
    path: "/ingest",
    operationId: "ingestAlias",
    tag: "Seed aliases",
    aliasOf: "ingestDocument",
    ...ingestOperation,
  },
  {
    method: "post",
    path: "/search",
    operationId: "searchAlias",
    tag: "Seed aliases",
    aliasOf: "search",
    ...searchOperation,
  },
  {
    method: "post",
    path: "/tools/exec",
    operationId: "toolExec",
    tag: "Seed aliases",
    aliasOf: "executeTool",
    summary: "Run one tool, named in the body",
    auth: key("tools"),
    body: { schema: ToolExecBodySchema, examples: { time: { summary: "A built-in", value: X.toolExecBody } } },
    replies: [toolExecReply],
  },
  {
    method: "get",
    path: "/chat/:sessionId/history",
    operationId: "sessionHistoryAlias",
    tag: "Seed aliases",
    aliasOf: "sessionHistory",
    ...historyOperation,
  },
  {
    method: "delete",
    path: "/chat/:sessionId",
    operationId: "deleteSessionAlias",
    tag: "Seed aliases",
    aliasOf: "deleteSession",
    ...deleteSessionOperation,
  },
  // Operator
  {
    method: "post",
    path: "/admin/tenants/:tenantId/keys",
    operationId: "createTenantKey",
    tag: "Operator",
    summary: "Create an API key",
    description: "The key is in this response only. Its limits are each at most the tenant's.",
    auth: operator,
    params: tenantParams,
    body: { schema: CreateKeyBodySchema, examples: { ci: { summary: "A key for CI", value: X.createKeyBody } } },
    replies: [{ status: 201, description: "The key, shown once.", json: { schema: S.CreatedApiKeySchema } }],
  },
  {
    method: "get",
    path: "/admin/tenants/:tenantId/keys",
    operationId: "listTenantKeys",
    tag: "Operator",
    summary: "A tenant's API keys",
    auth: operator,
    params: tenantParams,
    replies: [ok("The keys (never the keys themselves).", S.KeyListSchema)],
  },
  {
    method: "patch",
    path: "/admin/tenants/:tenantId/keys/:keyId",
    operationId: "updateTenantKey",
    tag: "Operator",
    summary: "Rename a key or change its limits",
    description: "JSON merge patch: a field given changes, `null` removes it, absent keeps it.",
    auth: operator,
    params: tenantParams,
    body: { schema: UpdateKeyBodySchema, examples: { limits: { summary: "New limits", value: X.updateKeyBody } } },
    replies: [ok("The key.", S.ApiKeySchema)],
    errors: [409],
  },
  {
    method: "delete",
    path: "/admin/tenants/:tenantId/keys/:keyId",
    operationId: "revokeTenantKey",
    tag: "Operator",
    summary: "Revoke a key",
    description: "At once on this isolate, within `KEY_CACHE_TTL_MS` (10 s) everywhere.",
    auth: operator,
    params: tenantParams,
    replies: [ok("The key, revoked.", S.ApiKeySchema)],
  },
  {
    method: "delete",
    path: "/admin/tenants/:tenantId/data",
    operationId: "eraseTenantData",
    tag: "Operator",
    summary: "Erase everything a tenant has",
    description:
      "A durable, resumable, idempotent job in every worker, ending with a verification pass (docs/erasure.md). `?again=true` starts a new job after a finished one.",
    auth: operator,
    params: tenantParams,
    query: EraseTenantQuerySchema,
    replies: [
      {
        status: 202,
        description: "The job, running.",
        json: { schema: S.ErasureJobSchema, examples: example("Erasing", X.erasureJob) },
        headers: { location: "The job's status route." },
      },
      {
        status: 200,
        description: "The job, finished earlier.",
        json: { schema: S.ErasureJobSchema },
        headers: { location: "The job's status route." },
      },
    ],
  },
  {
    method: "get",
    path: "/admin/tenants/:tenantId/data",
    operationId: "tenantErasure",
    tag: "Operator",
    summary: "A tenant erasure's progress",
    auth: operator,
    params: tenantParams,
    replies: [ok("The job.", S.ErasureJobSchema, example("Erasing", X.erasureJob))],
  },
  {
    method: "get",
    path: "/admin/audit",
    operationId: "operatorAudit",
    tag: "Operator",
    summary: "Administrative actions across tenants",
    auth: operator,
    query: OperatorAuditQuerySchema,
    replies: [ok("A page of audit rows.", S.pageOf(S.AuditRecordSchema))],
  },
  {
    method: "get",
    path: "/admin/usage",
    operationId: "adminUsage",
    tag: "Operator",
    summary: "Usage across tenants",
    description: "By tenant (default), day or model, over UTC days (≤ 93).",
    auth: operator,
    query: OperatorUsageQuerySchema,
    replies: [ok("The report.", S.OperatorUsageReportSchema)],
  },
];

/** The tags in the order the docs page shows them, with what each holds. */
export const TAGS: Array<{ name: string; description: string }> = [
  { name: "System", description: "Liveness, this document and the browser pages." },
  { name: "Widget", description: "The embeddable web chat: its script and its visitors' tokens." },
  { name: "Tenant", description: "Who the caller is and what its tenant has." },
  { name: "Chat", description: "Chat turns (SSE or JSON) and their sessions." },
  { name: "OpenAI-compatible", description: "OpenAI's formats: chat completions, models, embeddings, speech." },
  { name: "Documents", description: "Ingest, list and delete documents; search them with citations." },
  { name: "Tools", description: "The tool registry, tool execution, remote MCP servers." },
  { name: "MCP", description: "The platform as an MCP server." },
  { name: "Usage and audit", description: "Usage against budgets, reports, the audit log." },
  {
    name: "Operator",
    description: "Provisioning with the OPERATOR_TOKEN: keys, erasure, cross-tenant audit and usage.",
  },
  { name: "Seed aliases", description: "The original paths, kept working: each is an alias of a /v1 route." },
];
