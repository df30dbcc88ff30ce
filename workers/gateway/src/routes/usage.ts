/**
 * `GET /v1/usage`: the tenant's token usage against its daily and monthly budgets (UTC windows),
 * and, when the query asks (docs/usage.md):
 * - `from`, `to`, `groupBy` (day, key, model, route) → a report over those UTC days (`range`,
 *   `groupBy`, `keyId`, `rows`, `totals`) from the tenant's UsageLog;
 * - `requestId` → what was recorded for that request (`request`, its `modelCalls`).
 * Any key of the tenant may read it. A key with the `admin` scope sees every key's usage (and may
 * narrow it with `keyId`); any other key sees only its own — its report and lookups are its own
 * key's rows, and naming another key is a 403.
 */
import { type QuotaUsage, type RequestUsage, type UsageReport, UsageQuerySchema } from "@crispy/contracts";
import { HttpError, unwrap } from "../http/errors";
import { readQuery } from "../http/query";
import { tenantRoute } from "./handler";

const REPORT_PARAMS = ["from", "to", "groupBy", "keyId"];

type UsageAnswer = QuotaUsage & Partial<UsageReport> & Partial<RequestUsage>;

export const usage = tenantRoute(undefined, async ({ request, env, state, tenant }): Promise<UsageAnswer> => {
  const params = new URL(request.url).searchParams;
  const query = readQuery(request, UsageQuerySchema);
  const isAdmin = state.key.scopes.includes("admin");
  if (!isAdmin && query.keyId !== undefined && query.keyId !== state.key.id) {
    throw new HttpError("forbidden", 'a key without the "admin" scope sees only its own usage (keyId)', {
      keyId: state.key.id,
    });
  }
  const keyId = isAdmin ? (query.keyId ?? null) : state.key.id;
  const wantsReport = REPORT_PARAMS.some((name) => params.has(name));
  const [quota, report, lookup] = await Promise.all([
    env.RATELIMIT.usage(tenant),
    wantsReport
      ? env.RATELIMIT.usageReport(tenant, {
          from: query.from,
          to: query.to,
          groupBy: query.groupBy ?? "day",
          ...(keyId === null ? {} : { keyId }),
        })
      : null,
    query.requestId === undefined ? null : env.RATELIMIT.requestUsage(tenant, query.requestId, keyId),
  ]);
  return {
    ...unwrap(quota),
    ...(report ? unwrap(report) : {}),
    ...(lookup ? unwrap(lookup) : {}),
  };
});
