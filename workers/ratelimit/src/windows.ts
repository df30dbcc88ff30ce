/**
 * UTC budget windows: a day is `YYYY-MM-DD`, a month `YYYY-MM`, both in UTC, so every ledger
 * agrees on when a window starts whatever the caller's time zone. Keys sort chronologically as
 * strings, which the ledger relies on when pruning.
 */

export interface BudgetWindows {
  day: string;
  month: string;
  /** Epoch ms at which the day / month ends (the next one starts). */
  dayEndsAt: number;
  monthEndsAt: number;
}

/** The day and month that contain `now` (epoch ms). */
export function windowsAt(now: number): BudgetWindows {
  const iso = new Date(now).toISOString();
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  return {
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    dayEndsAt: Date.UTC(year, month, date.getUTCDate() + 1),
    monthEndsAt: Date.UTC(year, month + 1, 1),
  };
}
