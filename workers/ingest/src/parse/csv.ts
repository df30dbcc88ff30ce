/**
 * CSV and TSV: the first row names the columns; every later row becomes a block of
 * `header: value` lines (empty cells left out), so each row reads as a small record and rows stay
 * whole when chunked. Quoting follows RFC 4180: quoted fields may hold the delimiter, newlines and
 * doubled quotes. For CSV the delimiter is the one of `,` `;` tab that the header row uses most.
 */
import { fail, ok, type RpcResult } from "@crispy/contracts";
import { TextBuilder, normalizeText, type ParsedDocument } from "./document";

export function parseCsv(source: string, delimiter?: "," | ";" | "\t"): RpcResult<ParsedDocument> {
  const text = normalizeText(source);
  const rows = readRows(text, delimiter ?? detectDelimiter(text)).filter((row) =>
    row.some((cell) => cell.trim() !== ""),
  );
  const header = rows[0];
  if (!header) return fail("bad_request", "the CSV file has no rows");
  const names = header.map((name, index) => name.trim() || `column ${index + 1}`);
  const builder = new TextBuilder();
  for (const row of rows.slice(1)) {
    const fields = row
      .map((cell, index) => [names[index] ?? `column ${index + 1}`, cell.trim()] as const)
      .filter(([, value]) => value !== "")
      .map(([name, value]) => `${name}: ${value}`);
    builder.block(fields.join("\n"), []);
  }
  // A header-only file still says something: its column names.
  if (rows.length === 1) builder.block(names.join(", "), []);
  return ok(builder.build());
}

/** RFC 4180 rows; a quote opens a quoted field only at the start of a field. */
export function readRows(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        field += char;
      }
      continue;
    }
    if (char === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
    } else if (char === delimiter) {
      row.push(field);
      field = "";
      fieldStart = true;
    } else if (char === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      fieldStart = true;
    } else {
      field += char;
      fieldStart = false;
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function detectDelimiter(text: string): "," | ";" | "\t" {
  const firstLine = text.slice(0, text.indexOf("\n") === -1 ? text.length : text.indexOf("\n")).replace(/"[^"]*"/g, "");
  const count = (char: string) => firstLine.split(char).length - 1;
  const candidates = [",", ";", "\t"] as const;
  return candidates.reduce((best, char) => (count(char) > count(best) ? char : best), ",");
}
