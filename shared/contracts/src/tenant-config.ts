/**
 * Tenant configuration: one `tenants/<id>/tenant.config.json` per tenant, validated by this schema
 * at build and test time (`pnpm tenants:check`). Defaults are applied by the generator, so the
 * generated index always holds complete configs.
 */
import { z } from "zod";
import { BUILTIN_TOOLS } from "./tool-limits";

export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

export const TenantIdSchema = z
  .string()
  .regex(TENANT_ID_PATTERN, "must be 1-48 lowercase letters, digits or inner hyphens");

const Hostname = z.string().regex(/^[a-z0-9.-]+(?::\d{1,5})?$/, "must be a lowercase hostname, optionally with :port");

const Origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.origin === value;
  } catch {
    return false;
  }
}, "must be an origin like https://app.example.com (scheme, host and port only)");

const ModelId = z.string().min(1).max(128);

const ToolsConfig = z.strictObject({
  /** Model calls one turn may make while it calls tools (the last one is told to answer). */
  maxSteps: z.number().int().min(1).max(16).default(4),
  /** Which built-in tools the tenant offers (all by default). */
  builtins: z.array(z.enum(BUILTIN_TOOLS)).default([...BUILTIN_TOOLS]),
  /** Largest file `file_write` stores, and how many files the tenant may keep. */
  fileMaxBytes: z
    .number()
    .int()
    .min(1)
    .max(10 * 1024 * 1024)
    .default(1024 * 1024),
  maxFiles: z.number().int().min(1).max(100_000).default(1_000),
  /** Bytes of an HTTP tool's response body read at most (the call fails beyond it). */
  maxResponseBytes: z
    .number()
    .int()
    .min(1_024)
    .max(4 * 1024 * 1024)
    .default(256 * 1024),
});
const TOOLS_DEFAULTS = {
  maxSteps: 4,
  builtins: [...BUILTIN_TOOLS],
  fileMaxBytes: 1024 * 1024,
  maxFiles: 1_000,
  maxResponseBytes: 256 * 1024,
};

/** A model's price in USD per million tokens, prompt and completion apart. */
const ModelPrice = z.strictObject({
  promptUsdPerMillion: z.number().min(0).max(10_000),
  completionUsdPerMillion: z.number().min(0).max(10_000),
});

const RateLimit = z.strictObject({
  perMinute: z.number().int().min(1).max(1_000_000),
  burst: z.number().int().min(1).max(100_000),
});

export const TenantConfigSchema = z
  .strictObject({
    id: TenantIdSchema,
    name: z.string().min(1).max(200),
    hosts: z.array(Hostname).default([]),
    cors: z
      .strictObject({
        allowedOrigins: z.array(Origin).default([]),
        maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
      })
      .default({ allowedOrigins: [], maxAgeSeconds: 600 }),
    ai: z.strictObject({
      gatewayId: z.string().min(1).max(64),
      chat: z.strictObject({
        default: ModelId,
        fallbacks: z.array(ModelId).default([]),
        allowed: z.array(ModelId).min(1),
      }),
      embeddings: z.strictObject({
        model: ModelId,
        dimensions: z.number().int().min(8).max(4096),
      }),
      /** `POST /v1/audio/speech`: the default model (OpenAI's tts-1 etc. map to it) and the allow-list. */
      speech: z
        .strictObject({ default: ModelId, allowed: z.array(ModelId).min(1) })
        .default({ default: "local/tts-1", allowed: ["local/tts-1"] }),
    }),
    rateLimits: z.strictObject({
      perKey: RateLimit,
      tenant: RateLimit,
    }),
    budgets: z.strictObject({
      dailyTokens: z.number().int().min(0),
      monthlyTokens: z.number().int().min(0),
    }),
    sessions: z
      .strictObject({
        retentionDays: z.number().int().min(1).max(3650).default(30),
        maxMessages: z.number().int().min(2).max(10_000).default(200),
      })
      .default({ retentionDays: 30, maxMessages: 200 }),
    retrieval: z
      .strictObject({
        defaultTopK: z.number().int().min(1).max(50).default(5),
        maxTopK: z.number().int().min(1).max(50).default(20),
        rerank: z.boolean().default(false),
      })
      .default({ defaultTopK: 5, maxTopK: 20, rerank: false }),
    features: z
      .strictObject({
        chat: z.boolean().default(true),
        search: z.boolean().default(true),
        ingest: z.boolean().default(true),
        /** Deny by default: a tenant turns tools on here (keys still need the `tools` scope). */
        tools: z.boolean().default(false),
        ragByDefault: z.boolean().default(false),
      })
      .default({ chat: true, search: true, ingest: true, tools: false, ragByDefault: false }),
    tools: ToolsConfig.default(TOOLS_DEFAULTS),
    /**
     * What each model costs (usage reports' `costUsd`); a model not listed costs 0, so the local
     * models are free unless priced here. Applied when a call is recorded: a price change does not
     * rewrite past costs.
     */
    pricing: z.record(ModelId, ModelPrice).default({}),
  })
  .superRefine((config, ctx) => {
    if (!config.ai.speech.allowed.includes(config.ai.speech.default)) {
      ctx.addIssue({
        code: "custom",
        path: ["ai", "speech", "default"],
        message: `default speech model "${config.ai.speech.default}" is not in ai.speech.allowed`,
      });
    }
    const allowed = new Set(config.ai.chat.allowed);
    if (!allowed.has(config.ai.chat.default)) {
      ctx.addIssue({
        code: "custom",
        path: ["ai", "chat", "default"],
        message: `default model "${config.ai.chat.default}" is not in ai.chat.allowed`,
      });
    }
    config.ai.chat.fallbacks.forEach((model, index) => {
      if (!allowed.has(model)) {
        ctx.addIssue({
          code: "custom",
          path: ["ai", "chat", "fallbacks", index],
          message: `fallback model "${model}" is not in ai.chat.allowed`,
        });
      }
    });
    if (config.budgets.dailyTokens > config.budgets.monthlyTokens) {
      ctx.addIssue({
        code: "custom",
        path: ["budgets", "dailyTokens"],
        message: "dailyTokens cannot exceed monthlyTokens",
      });
    }
    if (config.retrieval.defaultTopK > config.retrieval.maxTopK) {
      ctx.addIssue({
        code: "custom",
        path: ["retrieval", "defaultTopK"],
        message: "defaultTopK cannot exceed maxTopK",
      });
    }
  });

/** A complete tenant config, defaults applied. */
export type TenantConfig = z.output<typeof TenantConfigSchema>;
export type RateLimitConfig = z.output<typeof RateLimit>;
export type ModelPrice = z.output<typeof ModelPrice>;
