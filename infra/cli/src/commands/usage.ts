/**
 * `crispy usage [--from --to --group-by]`: `GET /v1/usage`. The budget windows (daily, monthly)
 * are printed as a table with a bar each; a gateway that also reports breakdowns
 * (`{ range, groupBy, rows, totals }`) adds a table of rows and, by day, small charts of tokens
 * and requests (asciichart). A gateway without breakdowns prints the windows only.
 */
import * as asciichart from "asciichart";
import { type Command, Option } from "commander";
import type { TokenWindowUsage } from "@crispy/contracts";
import { action } from "../context";
import { CliError, EXIT } from "../errors";
import { cell, pc, print, printJson, table } from "../output";

interface UsageOptions {
  from?: string;
  to?: string;
  groupBy: string;
}

/** A breakdown row as GET /v1/usage reports it (shared/contracts UsageRow); every field optional. */
interface Row {
  group?: string;
  requests?: number;
  errors4xx?: number;
  errors5xx?: number;
  p50Ms?: number | null;
  p99Ms?: number | null;
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
  costUsd?: number;
  [field: string]: unknown;
}

interface UsageReply {
  daily?: TokenWindowUsage;
  monthly?: TokenWindowUsage;
  range?: { from: string; to: string };
  groupBy?: string;
  rows?: Row[];
  totals?: Row;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

const COLUMNS: Array<[keyof Row & string, string]> = [
  ["requests", "requests"],
  ["errors4xx", "4xx"],
  ["errors5xx", "5xx"],
  ["p50Ms", "p50 ms"],
  ["p99Ms", "p99 ms"],
  ["promptTokens", "prompt"],
  ["completionTokens", "completion"],
  ["totalTokens", "tokens"],
  ["costUsd", "cost $"],
];

function tokensOf(row: Row): number {
  if (typeof row.totalTokens === "number") return row.totalTokens;
  return (row.promptTokens ?? 0) + (row.completionTokens ?? 0);
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  const text = "█".repeat(filled) + "░".repeat(width - filled);
  return fraction >= 0.9 ? pc.red(text) : fraction >= 0.7 ? pc.yellow(text) : pc.green(text);
}

function printWindows(reply: UsageReply): void {
  const windows = (["daily", "monthly"] as const).filter((name) => reply[name]);
  if (windows.length === 0) return;
  print(pc.bold("Token budgets"));
  print(
    table(
      ["window", "used", "reserved", "remaining", "limit", "", "resets at (UTC)"],
      windows.map((name) => {
        const w = reply[name]!;
        return [
          name,
          cell(w.used),
          cell(w.reserved),
          cell(w.remaining),
          cell(w.limit),
          bar(w.limit > 0 ? (w.used + w.reserved) / w.limit : 0),
          w.resetsAt.slice(0, 16).replace("T", " "),
        ];
      }),
    ),
  );
}

function chart(title: string, values: number[]): void {
  print(pc.bold(title));
  // asciichart needs two points to draw a line; one day is drawn flat.
  const series = values.length === 1 ? [values[0]!, values[0]!] : values;
  print(
    asciichart.plot(series, { height: 6, format: (x: number) => Math.round(x).toLocaleString("en-US").padStart(9) }),
  );
}

function printBreakdown(reply: UsageReply): void {
  const rows = reply.rows ?? [];
  const columns = COLUMNS.filter(
    ([field]) => rows.some((row) => row[field] !== undefined) || reply.totals?.[field] !== undefined,
  );
  const range = reply.range ? ` ${reply.range.from} → ${reply.range.to}` : "";
  print(pc.bold(`Usage by ${reply.groupBy ?? "group"}${range}`));
  if (rows.length === 0) {
    print(pc.dim("no usage recorded in this range"));
    return;
  }
  // By day the chart shows every day; the table only the days with any use.
  const shown = reply.groupBy === "day" ? rows.filter((row) => (row.requests ?? 0) > 0 || tokensOf(row) > 0) : rows;
  const body = shown.map((row) => [cell(row.group), ...columns.map(([field]) => cell(row[field]))]);
  if (reply.totals) body.push([pc.bold("total"), ...columns.map(([field]) => pc.bold(cell(reply.totals![field])))]);
  print(table([reply.groupBy ?? "group", ...columns.map(([, label]) => label)], body));
  if (shown.length < rows.length) print(pc.dim(`${rows.length - shown.length} days without usage not listed`));
  if (reply.groupBy === "day") {
    const days = [...rows].sort((a, b) => String(a.group).localeCompare(String(b.group)));
    print();
    chart("tokens per day", days.map(tokensOf));
    if (days.some((row) => typeof row.requests === "number")) {
      print();
      chart(
        "requests per day",
        days.map((row) => row.requests ?? 0),
      );
    }
    print(pc.dim(`  ${days[0]!.group} … ${days.at(-1)!.group}`));
  }
}

export function registerUsage(program: Command): void {
  program
    .command("usage")
    .description("token budgets and usage over a range: a table and a small chart")
    .option("--from <YYYY-MM-DD>", "first day (UTC)")
    .option("--to <YYYY-MM-DD>", "last day (UTC)")
    .addOption(new Option("--group-by <group>", "rows per").choices(["day", "key", "model", "route"]).default("day"))
    .addHelpText("after", "\nExample:\n  crispy usage --from 2026-05-01 --to 2026-05-14 --group-by model")
    .action(
      action<UsageOptions>(async (context) => {
        const { options } = context;
        for (const [flag, value] of [
          ["--from", options.from],
          ["--to", options.to],
        ] as const)
          if (value !== undefined && !DATE.test(value))
            throw new CliError(`${flag} must be a date like 2026-05-01, got "${value}"`, {
              exitCode: EXIT.usage,
              code: "bad_option",
            });
        const reply = await context.client().json<UsageReply>("GET", "/v1/usage", {
          query: { from: options.from, to: options.to, groupBy: options.groupBy },
        });
        if (options.json) {
          printJson(reply);
          return;
        }
        printWindows(reply);
        if (Array.isArray(reply.rows)) {
          print();
          printBreakdown(reply);
        } else if (!reply.daily && !reply.monthly) print(pc.dim("the gateway reported no usage"));
      }),
    );
}
