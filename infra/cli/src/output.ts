/**
 * How commands print: results on stdout (a table or text for people, one JSON document with
 * --json), progress and notes on stderr, so `crispy … --json | jq` always reads clean JSON.
 * Colour follows picocolors (off when not a terminal, or with NO_COLOR).
 */
import Table from "cli-table3";
import pc from "picocolors";

export { pc };

export interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** A note for people (stderr), never part of a command's result. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const out = new Table({
    head: head.map((h) => pc.bold(h)),
    style: { head: [], border: [] },
    // One line per row: no rule between rows.
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of rows) out.push(row.map((cell) => String(cell)));
  return out.toString();
}

/** A cell value: "-" for null/undefined, numbers grouped, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en-US") : String(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export interface Source {
  n: number;
  docId: string;
  title: string;
  url: string | null;
  snippet?: string;
}

/** Numbered sources under an answer: `[n] title (docId) url`, then the snippet. */
export function printSources(sources: Source[]): void {
  if (sources.length === 0) return;
  print();
  print(pc.bold("Sources"));
  for (const source of sources) {
    const link = source.url ? ` ${pc.underline(source.url)}` : "";
    print(`  [${source.n}] ${source.title} ${pc.dim(`(${source.docId})`)}${link}`);
    if (source.snippet) print(`      ${pc.dim(truncate(source.snippet, 160))}`);
  }
}
