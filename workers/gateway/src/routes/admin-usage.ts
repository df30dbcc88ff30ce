/**
 * Operator API `GET /admin/usage?from=&to=&groupBy=tenant|day|model`: every tenant's usage over a
 * range of UTC days, read from each tenant's UsageLog (one `usageReport` call per tenant of the
 * bundled tenant index, a few at a time). Guarded like the other operator routes (auth/operator.ts):
 * the OPERATOR_TOKEN secret, rate-limited per client IP before the token is even compared.
 *
 * Rows by tenant are each tenant's own totals. Rows by day or model add the tenants' counts, tokens
 * and cost; their p50Ms/p99Ms are the highest of any tenant's (percentiles do not add up, and the
 * highest is an upper bound of the true one). A tenant whose usage could not be read is listed in
 * `unavailable` instead of failing the whole report.
 */
import {
  emptyTotals,
  type OperatorUsageReport,
  OperatorUsageQuerySchema,
  type TenantConfig,
  type TenantContext,
  type UsageRow,
  type UsageTotals,
} from "@crispy/contracts";
import { traceparentOf } from "@crispy/observability";
import { tenantsById } from "@crispy/tenants";
import { tenantById } from "../auth/authenticate";
import { requireOperator } from "../auth/operator";
import { HttpError } from "../http/errors";
import { readQuery } from "../http/query";
import type { RequestState } from "../state";
import type { Handler } from "./handler";

/** Tenants' reports read at once. */
const CONCURRENCY = 8;

/** The context the operator reads a tenant's usage with: the tenant's own, no key, the admin scope. */
function readerContext(config: TenantConfig, state: RequestState): TenantContext {
  return {
    tenantId: config.id,
    requestId: state.requestId,
    traceparent: traceparentOf(state.trace),
    scopes: ["admin"],
    config,
  };
}

/** Adds `row` into `into` (see the header for the percentiles). */
function add(into: UsageTotals, row: UsageTotals): void {
  into.requests += row.requests;
  into.errors4xx += row.errors4xx;
  into.errors5xx += row.errors5xx;
  into.modelCalls += row.modelCalls;
  into.cacheHits += row.cacheHits;
  into.promptTokens += row.promptTokens;
  into.completionTokens += row.completionTokens;
  into.totalTokens += row.totalTokens;
  into.costUsd = Math.round((into.costUsd + row.costUsd) * 1e8) / 1e8;
  for (const field of ["p50Ms", "p99Ms"] as const) {
    const value = row[field];
    if (value !== null) into[field] = Math.max(into[field] ?? value, value);
  }
}

export const adminUsage: Handler = async (request, env, ctx, state) => {
  // The tenants this gateway serves (one, when pinned: auth/pinned-tenant.ts).
  const tenants = Object.values(tenantsById)
    .filter((config) => tenantById(config.id))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  if (tenants.length === 0) throw new HttpError("not_found", "no tenants are configured");
  await requireOperator(request, env, ctx, state);
  const query = readQuery(request, OperatorUsageQuerySchema);
  const perTenant = query.groupBy === "tenant" ? "day" : query.groupBy;

  const rows = new Map<string, UsageRow>();
  const totals = emptyTotals();
  const unavailable: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tenants.length) {
      const config = tenants[next++]!;
      const result = await env.RATELIMIT.usageReport(readerContext(config, state), {
        from: query.from,
        to: query.to,
        groupBy: perTenant,
      }).catch(() => null);
      if (!result?.ok) {
        unavailable.push(config.id);
        continue;
      }
      add(totals, result.value.totals);
      const parts = query.groupBy === "tenant" ? [{ group: config.id, ...result.value.totals }] : result.value.rows;
      for (const part of parts) {
        let row = rows.get(part.group);
        if (!row) {
          row = { group: part.group, ...emptyTotals() };
          rows.set(part.group, row);
        }
        add(row, part);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, tenants.length) }, worker));

  const ordered = [...rows.values()].sort((a, b) =>
    query.groupBy === "day" ? (a.group < b.group ? -1 : 1) : b.totalTokens - a.totalTokens || b.requests - a.requests,
  );
  const report: OperatorUsageReport = {
    range: { from: query.from, to: query.to },
    groupBy: query.groupBy,
    rows: ordered,
    totals,
    unavailable: unavailable.sort(),
  };
  return report;
};
