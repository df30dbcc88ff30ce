/** `GET /v1/keys`: a tenant lists its own API keys (needs the `admin` scope); never the keys themselves. */
import { listKeys } from "../auth/api-keys";
import { tenantRoute } from "./handler";

export const listOwnKeys = tenantRoute("admin", async ({ env, tenant }) => ({
  keys: await listKeys(env.KEYS_DB, tenant.tenantId),
}));
