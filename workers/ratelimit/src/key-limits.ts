/**
 * An API key's own limits as crispy-ratelimit reads them: from the TenantContext the gateway
 * built for the key's request (`keyId`, `keyLimits`), checked for shape here because a caller
 * with a bug must get a `bad_request` value, and clamped to the tenant's limits by the contracts'
 * `keyRateLimit` / `keyTokenBudgets` (a key never gets more than its tenant, whatever it carries).
 */
import { type KeyLimits, KeyLimitsSchema, type TenantContext } from "@crispy/contracts";

const MAX_KEY_ID_LENGTH = 128;

/** The calling key's id and limits, or what is wrong with them. */
export function callingKey(
  tenant: TenantContext,
): { ok: true; keyId: string; limits: KeyLimits | null } | { ok: false; problem: string } {
  const { keyId, keyLimits } = tenant;
  if (typeof keyId !== "string" || keyId.length === 0 || keyId.length > MAX_KEY_ID_LENGTH) {
    return { ok: false, problem: "tenant context: a key's limits need the key (keyId)" };
  }
  if (keyLimits === undefined) return { ok: true, keyId, limits: null };
  const parsed = KeyLimitsSchema.safeParse(keyLimits);
  if (!parsed.success) return { ok: false, problem: "tenant context: keyLimits must be a key's limits" };
  return { ok: true, keyId, limits: parsed.data };
}
