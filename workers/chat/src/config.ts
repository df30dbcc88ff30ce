/** crispy-chat's configuration (wrangler.jsonc `vars`), parsed once; a bad value fails loudly. */
import { AiEnvSchema } from "@crispy/ai";
import { envEnum, envInt, parseEnv } from "@crispy/worker-kit";
import * as z from "zod/mini";

const Schema = z.extend(AiEnvSchema, {
  /** An SSE comment is sent after this many idle milliseconds, so proxies keep the stream open. */
  HEARTBEAT_MS: envInt({ min: 1, max: 600_000, fallback: 15_000 }),
  /** "off" records no model-call usage points (docs/usage.md; for the bench's with/without comparison). */
  USAGE_RECORDING: envEnum(["on", "off"], "on"),
});

export type ChatConfig = z.output<typeof Schema>;

export function configOf(env: ChatEnv): ChatConfig {
  return parseEnv("chat", Schema, env);
}
