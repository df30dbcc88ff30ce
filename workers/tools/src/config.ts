/**
 * crispy-tools' configuration (wrangler.jsonc `vars` and the TOOLS_SECRET_KEY secret), parsed once;
 * a bad value fails loudly. TOOLS_SECRET_KEY is optional here on purpose: without it only the
 * operations that need it (an HTTP tool with `auth`) fail, naming the variable (see secrets.ts).
 */
import { envEnum, envOptionalString, parseEnv } from "@crispy/worker-kit";
import * as z from "zod/mini";

const Schema = z.object({
  /**
   * The address guard's local-dev exception: "allow" lets HTTP tools call http(s)://127.0.0.1 and
   * localhost; "deny" (production) refuses loopback like any private address.
   */
  HTTP_TOOLS_LOOPBACK: envEnum(["allow", "deny"], "deny"),
  /** Base64 of 32 bytes: the AES-GCM key of HTTP tools' stored secrets. */
  TOOLS_SECRET_KEY: envOptionalString(),
});

export type ToolsConfig = z.output<typeof Schema>;

export function configOf(env: ToolsEnv): ToolsConfig {
  return parseEnv("tools", Schema, env);
}
