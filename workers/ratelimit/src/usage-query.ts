/**
 * A usage report's query as it arrives over RPC, checked (UTC days `from`..`to`, inclusive, at
 * most USAGE_LIMITS.maxRangeDays; a known grouping; an optional key id), and the report's rows put
 * in order: by day, every day of the range (a day without usage is a row of zeros, so a chart has
 * no gaps); otherwise the biggest spenders first.
 */
import {
  emptyTotals,
  USAGE_GROUPS,
  USAGE_LIMITS,
  type UsageGroup,
  type UsageRow,
  utcDayStart,
} from "@crispy/contracts";

const DAY_MS = 86_400_000;

export interface CheckedUsageQuery {
  from: string;
  to: string;
  fromMs: number;
  /** Exclusive: the start of the day after `to`. */
  toMs: number;
  groupBy: UsageGroup;
  keyId: string | null;
}

function dayStart(value: unknown): number | null {
  return typeof value === "string" ? utcDayStart(value) : null;
}

export function checkUsageQuery(
  query: unknown,
): { ok: true; value: CheckedUsageQuery } | { ok: false; problem: string } {
  if (typeof query !== "object" || query === null) return { ok: false, problem: "query must be an object" };
  const { from, to, groupBy, keyId } = query as Record<string, unknown>;
  const fromMs = dayStart(from);
  if (fromMs === null) return { ok: false, problem: "from must be a UTC date YYYY-MM-DD" };
  const toStart = dayStart(to);
  if (toStart === null) return { ok: false, problem: "to must be a UTC date YYYY-MM-DD" };
  if (toStart < fromMs) return { ok: false, problem: "to must not be before from" };
  const days = (toStart - fromMs) / DAY_MS + 1;
  if (days > USAGE_LIMITS.maxRangeDays) {
    return { ok: false, problem: `the range spans ${days} days; at most ${USAGE_LIMITS.maxRangeDays}` };
  }
  if (typeof groupBy !== "string" || !(USAGE_GROUPS as readonly string[]).includes(groupBy)) {
    return { ok: false, problem: `groupBy must be one of ${USAGE_GROUPS.join(", ")}` };
  }
  if (
    keyId !== undefined &&
    keyId !== null &&
    (typeof keyId !== "string" || keyId.length === 0 || keyId.length > USAGE_LIMITS.maxKeyIdLength)
  ) {
    return { ok: false, problem: `keyId must be 1-${USAGE_LIMITS.maxKeyIdLength} characters` };
  }
  return {
    ok: true,
    value: {
      from: from as string,
      to: to as string,
      fromMs,
      toMs: toStart + DAY_MS,
      groupBy: groupBy as UsageGroup,
      keyId: typeof keyId === "string" ? keyId : null,
    },
  };
}

/** The rows in report order (see the header). */
export function orderRows(rows: UsageRow[], query: CheckedUsageQuery): UsageRow[] {
  if (query.groupBy !== "day") {
    return rows.sort(
      (a, b) => b.totalTokens - a.totalTokens || b.requests - a.requests || (a.group < b.group ? -1 : 1),
    );
  }
  const byDay = new Map(rows.map((row) => [row.group, row]));
  const days: UsageRow[] = [];
  for (let ms = query.fromMs; ms < query.toMs; ms += DAY_MS) {
    const day = new Date(ms).toISOString().slice(0, 10);
    days.push(byDay.get(day) ?? { group: day, ...emptyTotals() });
  }
  return days;
}
