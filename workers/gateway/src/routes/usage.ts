/** `GET /v1/usage`: the tenant's token usage against its daily and monthly budgets (UTC windows). */
import { unwrap } from "../http/errors";
import { tenantRoute } from "./handler";

export const usage = tenantRoute(undefined, async ({ env, tenant }) => unwrap(await env.RATELIMIT.usage(tenant)));
