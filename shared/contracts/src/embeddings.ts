/**
 * `POST /v1/embeddings` in OpenAI's format: the body the gateway validates, the rag worker's
 * `embed` RPC, and the public limits. Every OpenAI field is honoured or refused with a 400 naming
 * it: `input` (a string or an array of strings; token-id arrays are refused — send text),
 * `model` (the tenant's embeddings model), `encoding_format` (`float`, or `base64`: little-endian
 * float32, as OpenAI encodes it), `dimensions` (where the model can produce that width) and
 * `user` (kept in logs and sent to AI Gateway as metadata).
 */
import { z } from "zod";

export const EMBEDDING_LIMITS = {
  /** Inputs in one request. */
  maxInputs: 256,
  /** Characters of one input. */
  maxInputChars: 32_000,
  /** Characters of all inputs of one request together. */
  maxTotalChars: 512_000,
  /** Bounds of `dimensions`. */
  minDimensions: 1,
  maxDimensions: 4_096,
} as const;

const TOKEN_IDS = "token-id arrays are not supported; send the text";
const InputText = z
  .string({
    error: (issue) => (typeof issue.input === "number" || Array.isArray(issue.input) ? TOKEN_IDS : "must be a string"),
  })
  .min(1, "must not be empty")
  .max(EMBEDDING_LIMITS.maxInputChars, `must be at most ${EMBEDDING_LIMITS.maxInputChars} characters`);

export const EmbeddingsBodySchema = z
  .strictObject(
    {
      /** One string is read as a list of one (its errors then name `input.0`). */
      input: z.preprocess(
        (value) => (typeof value === "string" ? [value] : value),
        z
          .array(InputText, { error: "must be a string or an array of strings" })
          .min(1, "must hold at least one input")
          .max(EMBEDDING_LIMITS.maxInputs, `must hold at most ${EMBEDDING_LIMITS.maxInputs} inputs`),
      ),
      model: z.string().min(1).max(128),
      encoding_format: z.enum(["float", "base64"], { error: 'must be "float" or "base64"' }).default("float"),
      dimensions: z.number().int().min(EMBEDDING_LIMITS.minDimensions).max(EMBEDDING_LIMITS.maxDimensions).optional(),
      user: z.string().max(256).optional(),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `${issue.keys.join(", ")}: not supported by this API (docs/openai.md lists every field)`
          : undefined,
    },
  )
  .superRefine((body, ctx) => {
    const total = body.input.reduce((sum, text) => sum + text.length, 0);
    if (total > EMBEDDING_LIMITS.maxTotalChars) {
      ctx.addIssue({
        code: "custom",
        path: ["input"],
        message: `all inputs together must be at most ${EMBEDDING_LIMITS.maxTotalChars} characters (got ${total})`,
      });
    }
  });
export type EmbeddingsBody = z.output<typeof EmbeddingsBodySchema>;

/** What the rag worker's `embed` takes (validated at the gateway; checked again against the tenant). */
export interface EmbedInput {
  texts: string[];
  model: string;
  dimensions?: number;
  user?: string;
}

export interface Embedded {
  vectors: number[][];
  model: string;
  promptTokens: number;
}
