/** crispy-rag's configuration (wrangler.jsonc `vars`), parsed once; a bad value fails loudly. */
import { AiEnvSchema } from "@crispy/ai";
import { envEnum, envInt, parseEnv } from "@crispy/worker-kit";
import * as z from "zod/mini";
import { DEFAULT_MATRIX_MAX_BYTES } from "./vectors/matrix";

const Schema = z.extend(AiEnvSchema, {
  /** Where chunk embeddings live: in the TenantIndex (offline) or in Vectorize (production). */
  VECTOR_BACKEND: envEnum(["durable-object", "vectorize"], "durable-object"),
  /** Bytes of embeddings a TenantIndex keeps in memory; a larger index is scanned from SQLite. */
  VECTOR_MATRIX_MAX_BYTES: envInt({ max: 100 * 1024 * 1024, fallback: DEFAULT_MATRIX_MAX_BYTES }),
  /** "off" records no model-call usage points (docs/usage.md; for the bench's with/without comparison). */
  USAGE_RECORDING: envEnum(["on", "off"], "on"),
});

export type RagConfig = z.output<typeof Schema>;

export function configOf(env: RagEnv): RagConfig {
  return parseEnv("rag", Schema, env);
}
