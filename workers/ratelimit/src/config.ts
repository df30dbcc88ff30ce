/** crispy-ratelimit's configuration (wrangler.jsonc `vars`), parsed once; a bad value fails loudly. */
import { envInt, parseEnv } from "@crispy/worker-kit";
import * as z from "zod/mini";

const Schema = z.object({
  /** Seconds before an unsettled token reservation is charged at its estimate and closed. */
  RESERVATION_TTL_SECONDS: envInt({ min: 1, max: 86_400, fallback: 900 }),
});

export type RatelimitConfig = z.output<typeof Schema>;

export function configOf(env: RatelimitEnv): RatelimitConfig {
  return parseEnv("ratelimit", Schema, env);
}
