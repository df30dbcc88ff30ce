/**
 * Contracts of chat: the HTTP bodies the gateway validates and the chat worker's RPC surface.
 * Limits here are the documented public limits.
 */
import { z } from "zod";
import { CHAT_LIMITS, SESSION_ID_PATTERN } from "./chat-limits";
import { TOOL_NAME_PATTERN, TOOL_REF_MESSAGE, TOOL_REF_PATTERN } from "./tool-limits";
import type { SearchSource } from "./retrieval";

export const SessionIdSchema = z.string().regex(SESSION_ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -");
const ModelSchema = z.string().min(1).max(128);

export const ChatBodySchema = z.strictObject({
  sessionId: SessionIdSchema.optional(),
  message: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(CHAT_LIMITS.maxMessageChars, `must be at most ${CHAT_LIMITS.maxMessageChars} characters`),
  model: ModelSchema.optional(),
  stream: z.boolean().default(true),
  system: z.string().max(CHAT_LIMITS.maxSystemChars).optional(),
  /** Retrieve from the tenant's documents first (defaults to the tenant's features.ragByDefault). */
  rag: z.boolean().optional(),
  /**
   * The tool loop: on by default when the tenant enables tools and the key has the `tools` scope;
   * false turns it off for this turn, a list narrows it to those tools.
   */
  tools: z
    .union([z.boolean(), z.array(z.string().regex(TOOL_REF_PATTERN, TOOL_REF_MESSAGE)).min(1).max(64)])
    .optional(),
});
export type ChatBody = z.output<typeof ChatBodySchema>;

const MessageText = z.string().max(CHAT_LIMITS.maxMessageChars);
/** `content` as a string or an array of text parts (joined with no separator, as OpenAI does). */
const TextParts = z
  .array(
    z.strictObject({
      type: z.literal("text", { error: "only text parts are supported (no images, audio or files)" }),
      text: MessageText,
    }),
  )
  .max(64)
  .transform((parts) => parts.map((part) => part.text).join(""));
const Content = z.union([MessageText, TextParts], { error: "must be a string or an array of text parts" });

const ToolCallSchema = z.strictObject({
  id: z.string().min(1).max(128),
  type: z.literal("function"),
  function: z.strictObject({
    name: z.string().regex(TOOL_NAME_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -"),
    arguments: z.string().max(CHAT_LIMITS.maxMessageChars),
  }),
});

const refuseName = {
  name: z.never({ error: "is not supported (participant names are not sent to models)" }).optional(),
};

/** Each message role, normalised: `content` always a string, `developer` read as `system`. */
const OpenAiMessageSchema = z.discriminatedUnion(
  "role",
  [
    z.strictObject({ role: z.enum(["system", "developer"]), content: Content, ...refuseName }).transform((m) => ({
      role: "system" as const,
      content: m.content,
    })),
    z.strictObject({ role: z.literal("user"), content: Content, ...refuseName }),
    z
      .strictObject({
        role: z.literal("assistant"),
        content: Content.nullable().optional(),
        tool_calls: z.array(ToolCallSchema).min(1).max(CHAT_LIMITS.maxToolCalls).optional(),
        refusal: z.null().optional(),
        ...refuseName,
      })
      .refine((m) => (m.content ?? "") !== "" || m.tool_calls !== undefined, {
        message: "an assistant message needs content or tool_calls",
      })
      .transform((m) => ({
        role: "assistant" as const,
        content: m.content ?? "",
        ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}),
      })),
    z.strictObject({ role: z.literal("tool"), content: Content, tool_call_id: z.string().min(1).max(128) }),
  ],
  { error: 'role must be one of "system", "developer", "user", "assistant", "tool"' },
);

const FunctionToolSchema = z.strictObject({
  type: z.literal("function", { error: 'only "function" tools are supported' }),
  function: z.strictObject({
    name: z.string().regex(TOOL_NAME_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -"),
    description: z.string().max(4_096).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const ToolChoiceSchema = z.union([
  z.enum(["auto", "none", "required"]),
  z.strictObject({
    type: z.literal("function"),
    function: z.strictObject({ name: z.string().regex(TOOL_NAME_PATTERN) }),
  }),
]);

const ResponseFormatSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("text") }),
    z.strictObject({ type: z.literal("json_object") }),
    z.strictObject({
      type: z.literal("json_schema"),
      json_schema: z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
        description: z.string().max(4_096).optional(),
        schema: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      }),
    }),
  ],
  { error: 'type must be "text", "json_object" or "json_schema"' },
);

/** A field accepted only at its neutral value: anything else is a 400 naming it. */
function neutral(isNeutral: (value: unknown) => boolean, why: string) {
  return z
    .unknown()
    .refine((value) => value === undefined || value === null || isNeutral(value), { message: why })
    .optional();
}

/**
 * `POST /v1/chat/completions`: every field OpenAI's API defines is either honoured or refused
 * here with a 400 naming it (unknown fields too) — never accepted and dropped. docs/openai.md
 * lists each one.
 */
export const OpenAiChatBodySchema = z
  .strictObject(
    {
      model: ModelSchema.optional(),
      messages: z.array(OpenAiMessageSchema).min(1).max(CHAT_LIMITS.maxMessages),
      stream: z.boolean().default(false),
      stream_options: z.strictObject({ include_usage: z.boolean().optional() }).nullable().optional(),
      max_tokens: z.number().int().min(1).max(8192).nullable().optional(),
      max_completion_tokens: z.number().int().min(1).max(8192).nullable().optional(),
      temperature: z.number().min(0).max(2).nullable().optional(),
      top_p: z.number().min(0).max(1).nullable().optional(),
      seed: z.number().int().nullable().optional(),
      frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
      presence_penalty: z.number().min(-2).max(2).nullable().optional(),
      stop: z
        .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(4)])
        .nullable()
        .optional(),
      /** Only one choice is generated. */
      n: neutral((v) => v === 1, "only n = 1 is supported"),
      /** An end-user id: sent to AI Gateway as metadata and kept in logs. */
      user: z.string().max(256).optional(),
      tools: z.array(FunctionToolSchema).max(CHAT_LIMITS.maxTools).optional(),
      tool_choice: ToolChoiceSchema.optional(),
      parallel_tool_calls: z.boolean().nullable().optional(),
      response_format: ResponseFormatSchema.optional(),
      logprobs: neutral((v) => v === false, "is not supported (no log probabilities are returned)"),
      top_logprobs: neutral(() => false, "is not supported (no log probabilities are returned)"),
      store: neutral((v) => v === false, "is not supported (use session_id to keep a conversation)"),
      modalities: neutral((v) => Array.isArray(v) && v.length === 1 && v[0] === "text", 'only ["text"] is supported'),
      service_tier: neutral((v) => v === "auto" || v === "default", 'only "auto" or "default" is supported'),
      /** Extension: also record the exchange in this session. */
      session_id: SessionIdSchema.optional(),
      /**
       * Extension: let the platform run the tenant's own tools (true: every tool the key may call;
       * or a list of names) in a loop, returning the final answer; client `tools` still return to
       * the client.
       */
      server_tools: z
        .union([z.boolean(), z.array(z.string().regex(TOOL_REF_PATTERN, TOOL_REF_MESSAGE)).min(1).max(64)])
        .optional(),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `${issue.keys.join(", ")}: not supported by this API (docs/openai.md lists every field)`
          : undefined,
    },
  )
  .superRefine((body, ctx) => {
    if (
      body.max_tokens != null &&
      body.max_completion_tokens != null &&
      body.max_tokens !== body.max_completion_tokens
    ) {
      ctx.addIssue({ code: "custom", path: ["max_completion_tokens"], message: "differs from max_tokens; send one" });
    }
    const names = new Set((body.tools ?? []).map((tool) => tool.function.name));
    if (names.size !== (body.tools ?? []).length) {
      ctx.addIssue({ code: "custom", path: ["tools"], message: "tool names must be unique" });
    }
    const choice = body.tool_choice;
    if (typeof choice === "object" && !names.has(choice.function.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["tool_choice", "function", "name"],
        message: `"${choice.function.name}" is not one of the request's tools`,
      });
    }
    if ((choice === "required" || typeof choice === "object") && names.size === 0 && !body.server_tools) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "needs tools (or server_tools)" });
    }
  });
export type OpenAiChatBody = z.output<typeof OpenAiChatBodySchema>;

export const PageQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(CHAT_LIMITS.maxPageSize).default(CHAT_LIMITS.defaultPageSize),
});
export type PageQuery = z.output<typeof PageQuerySchema>;

/** What the chat worker's `stream` and `complete` take (validated at the gateway). */
export interface ChatTurnInput {
  sessionId?: string;
  message: string;
  model?: string;
  system?: string;
  rag?: boolean;
  /** See ChatBodySchema.tools. */
  tools?: boolean | string[];
}

/** SSE dialects the chat worker can emit: the platform's events, or OpenAI chunks. */
export type StreamFormat = "events" | "openai";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatTurnReply {
  sessionId: string;
  turnId: string;
  model: string;
  reply: string;
  usage: TokenUsage;
  /** For a RAG turn: the retrieved sources the reply's `[n]` citations refer to. */
  sources?: SearchSource[];
  /** For a turn that ran tools: each call and its result, in order. */
  tools?: ToolActivity[];
  /** The turn's spans (ms by name: model, tool, …); the gateway moves them into Server-Timing. */
  timings?: Record<string, number>;
}

/** One server-side tool call of a turn and its result (as in the SSE `tool_result` event). */
export interface ToolActivity {
  id: string;
  name: string;
  arguments: string;
  status: "ok" | "error" | "timeout" | "invalid" | "denied";
  output: string;
  truncated: boolean;
  durationMs: number;
  executionId: string | null;
}

export interface StartedStream {
  sessionId: string;
  /** SSE bytes, ready to pipe to the client. Cancelling it cancels the model call. */
  body: ReadableStream<Uint8Array>;
}

export interface SessionSummary {
  id: string;
  title: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface MessageRecord {
  seq: number;
  turnId: string;
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  tokens: number;
  createdAt: string;
  /** An assistant message's tool calls (`arguments` is JSON text). */
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
  /** A tool message: the call it answers. */
  toolCallId?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
