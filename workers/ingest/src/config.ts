/** crispy-ingest's configuration (wrangler.jsonc `vars`), parsed once; a bad value fails loudly. */
import { AiEnvSchema } from "@crispy/ai";
import { envInt, parseEnv } from "@crispy/worker-kit";
import * as z from "zod/mini";

const Schema = z.extend(AiEnvSchema, {
  /** First delay before a failed job step is retried (doubles per attempt, with jitter). */
  INGEST_RETRY_BASE_MS: envInt({ max: 3_600_000, fallback: 2_000 }),
});

export type IngestConfig = z.output<typeof Schema>;

export function configOf(env: IngestEnv): IngestConfig {
  return parseEnv("ingest", Schema, env);
}
