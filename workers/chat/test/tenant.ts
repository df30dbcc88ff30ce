/** Test helpers: a fresh tenant (own Durable Objects and budget) with chat overrides. */
import type { TenantConfig, TenantContext } from "@crispy/contracts";
import { MODELS, freshTenantId, testConfig, contextFor } from "@crispy/testing";

export const ECHO = MODELS.echo;
export const FAIL_ALWAYS = MODELS.failAlways;
export const FAIL_MID_STREAM = MODELS.failMidStream;
export const SLOW_FIRST_TOKEN = MODELS.slowFirstToken;

export interface TenantOptions {
  chat?: Partial<TenantConfig["ai"]["chat"]>;
  budgets?: TenantConfig["budgets"];
  sessions?: Partial<TenantConfig["sessions"]>;
}

export function makeTenant(options: TenantOptions = {}, tenantId = freshTenantId()): TenantContext {
  const { chat, budgets, sessions } = options;
  return contextFor(
    testConfig(
      { ...(chat ? { ai: { chat } } : {}), ...(budgets ? { budgets } : {}), ...(sessions ? { sessions } : {}) },
      tenantId,
    ),
    ["chat"],
  );
}

export { failure, freshTenantId, unwrap } from "@crispy/testing";
