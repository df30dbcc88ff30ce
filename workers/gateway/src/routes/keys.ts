/**
 * `GET /v1/keys`: a tenant lists its own API keys (needs the `admin` scope) with their limits and,
 * for budgeted keys, what they spent against their budgets; never the keys themselves.
 */
import { withKeyUsage } from "../admission/key-usage";
import { listKeys } from "../auth/api-keys";
import { tenantRoute } from "./handler";

export const listOwnKeys = tenantRoute("admin", async ({ env, state, tenant }) => ({
  keys: await withKeyUsage(env, state, state.tenant, await listKeys(env.KEYS_DB, tenant.tenantId)),
}));
