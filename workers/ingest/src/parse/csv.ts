/**
 * CSV and TSV: the first row names the columns; every later row becomes a block of
 * `header: value` lines (empty cells left out), so each row reads as a small record and rows stay
 * whole when chunked. Quoting follows RFC 4180: quoted fields may hold the delimiter, newlines and
 * doubled quotes. For CSV the delimiter is the one of `,` `;` tab that the header row uses most.
 *
 * Bounds: rows are read one at a time in one pass, each field a slice of the text (never built a
 * character at a time); a row of more than MAX_CSV_COLUMNS cells is refused; and writing stops
 * once the text is over the limit, since header names repeated on every row can make the text much
 * larger than the file.
 */
import { RETRIEVAL_LIMITS, fail, type RpcResult } from "@crispy/contracts";
import { TextBuilder, normalizeText, type ParsedDocument } from "./document";

/** Cells a row may have. Spreadsheets stop at 16,384 columns too. */
export const MAX_CSV_COLUMNS = RETRIEVAL_LIMITS.maxCsvColumns;

export function parseCsv(source: string, delimiter?: "," | ";" | "\t"): RpcResult<ParsedDocument> {
  const text = normalizeText(source);
  const builder = new TextBuilder();
  let names: string[] | null = null;
  let records = 0;
  const read = readRows(text, delimiter ?? detectDelimiter(text), MAX_CSV_COLUMNS, (row) => {
    if (!row.some((cell) => cell.trim() !== "")) return true;
    if (names === null) {
      names = row.map((name, index) => name.trim() || `column ${index + 1}`);
      return true;
    }
    records++;
    const fields: string[] = [];
    let chars = -1;
    for (const [index, cell] of row.entries()) {
      const value = cell.trim();
      if (value === "") continue;
      const field = `${names[index] ?? `column ${index + 1}`}: ${value}`;
      chars += field.length + 1;
      // Counted ahead: a row over the limit on its own is not joined.
      if (chars > builder.remaining) {
        builder.overflow();
        return false;
      }
      fields.push(field);
    }
    return builder.block(fields.join("\n"), []);
  });
  if (read === "too_wide") {
    return fail(
      "bad_request",
      `a row of the CSV file has more than ${MAX_CSV_COLUMNS} cells; the limit is ${MAX_CSV_COLUMNS} columns`,
      { maxColumns: MAX_CSV_COLUMNS },
    );
  }
  const header = names as string[] | null;
  if (header === null) return fail("bad_request", "the CSV file has no rows");
  // A header-only file still says something: its column names.
  if (records === 0) builder.block(header.join(", "), []);
  return builder.build();
}

/**
 * RFC 4180 rows, handed to `onRow` one at a time until it answers false ("stopped"); a quote
 * opens a quoted field only at the start of a field, and an unterminated one runs to the end of
 * the text. "too_wide" as soon as a row has more than `maxCells` cells. One pass: every search
 * starts where the previous one of its kind ended.
 */
export function readRows(
  text: string,
  delimiter: string,
  maxCells: number,
  onRow: (row: string[]) => boolean,
): "done" | "stopped" | "too_wide" {
  const length = text.length;
  const next = (char: string, from: number) => {
    const at = text.indexOf(char, from);
    return at === -1 ? length : at;
  };
  let nextDelimiter = -1;
  let nextNewline = -1;
  let row: string[] = [];
  let at = 0;
  while (at < length) {
    let field = "";
    if (text.charCodeAt(at) === 0x22 /* " */) {
      const parts: string[] = [];
      let from = at + 1;
      for (;;) {
        const quote = next('"', from);
        parts.push(text.slice(from, quote));
        if (quote < length && text.charCodeAt(quote + 1) === 0x22) {
          parts.push('"');
          from = quote + 2;
        } else {
          from = Math.min(quote + 1, length);
          break;
        }
      }
      field = parts.join("");
      at = from;
    }
    // The unquoted rest of the field (all of it for an unquoted one), to a delimiter or line end.
    if (nextDelimiter < at) nextDelimiter = next(delimiter, at);
    if (nextNewline < at) nextNewline = next("\n", at);
    const end = Math.min(nextDelimiter, nextNewline);
    if (end > at) field += text.slice(at, end);
    row.push(field);
    if (row.length > maxCells) return "too_wide";
    if (end === length) return onRow(row) ? "done" : "stopped";
    if (end === nextNewline) {
      if (!onRow(row)) return "stopped";
      row = [];
      if (end + 1 === length) return "done";
    } else if (end + 1 === length) {
      // A delimiter ends the text: the row ends with an empty cell.
      row.push("");
      if (row.length > maxCells) return "too_wide";
      return onRow(row) ? "done" : "stopped";
    }
    at = end + 1;
  }
  return "done";
}

/** The one of `,` `;` tab that the first line has most of, outside quoted parts (`,` on ties). */
function detectDelimiter(text: string): "," | ";" | "\t" {
  const candidates = [",", ";", "\t"] as const;
  const counts = [0, 0, 0];
  // Counts inside an open quote, which only count if the quote is never closed.
  const quoted = [0, 0, 0];
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "\n") break;
    if (char === '"') {
      inQuote = !inQuote;
      quoted.fill(0);
      continue;
    }
    const index = candidates.indexOf(char as (typeof candidates)[number]);
    if (index !== -1) (inQuote ? quoted : counts)[index]!++;
  }
  if (inQuote) for (const index of [0, 1, 2]) counts[index]! += quoted[index]!;
  let best = 0;
  for (const index of [1, 2]) if (counts[index]! > counts[best]!) best = index;
  return candidates[best]!;
}
