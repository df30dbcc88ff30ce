/**
 * The gateway's configuration (wrangler.jsonc `vars` and secrets), parsed once; a bad value fails
 * loudly. The app answers every request with a 500 naming the variable until it is fixed, rather
 * than run with a limit silently switched off.
 */
import { tenantsById } from "@crispy/tenants";
import { envEnum, envInt, envOptionalString, parseEnv } from "@crispy/worker-kit";
import * as z from "zod/mini";

const TENANT_IDS = Object.keys(tenantsById) as [string, ...string[]];

const Schema = z.object({
  /** Largest request body accepted, in bytes (also enforced for bodies without content-length). */
  MAX_BODY_BYTES: envInt({ min: 1, max: 100 * 1024 * 1024 }),
  /** How long an isolate may reuse an API-key lookup; bounds how late a revocation takes effect. */
  KEY_CACHE_TTL_MS: envInt({ max: 3_600_000 }),
  /** Operator API limit per client IP, separate from tenants' traffic. */
  OPERATOR_RATE_PER_MINUTE: envInt({ min: 1, max: 1_000_000 }),
  OPERATOR_RATE_BURST: envInt({ min: 1, max: 100_000 }),
  /** The operator API's bearer token (a secret); unset disables the operator API. */
  OPERATOR_TOKEN: envOptionalString(),
  /** HMAC key of the web chat widget's visitor tokens (a secret, ≥ 32 characters); unset turns the widget off. */
  WIDGET_TOKEN_SECRET: envOptionalString(),
  /** A single-tenant gateway serves only this tenant (auth/pinned-tenant.ts; set by `pnpm run deploy --tenant`). */
  TENANT_ID: z.optional(envEnum(TENANT_IDS)),
  /** "off" records no usage points (docs/usage.md; for the bench's with/without comparison). */
  USAGE_RECORDING: envEnum(["on", "off"], "on"),
});

export type GatewayConfig = z.output<typeof Schema>;

export function configOf(env: GatewayEnv): GatewayConfig {
  return parseEnv("gateway", Schema, env);
}
