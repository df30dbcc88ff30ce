/** Plain text: the text itself, normalised, as one section without headings. */
import { normalizeText, type ParsedDocument } from "./document";

export function parseText(source: string): ParsedDocument {
  const text = normalizeText(source);
  const trimmedEnd = text.trimEnd().length;
  const start = text.length - text.trimStart().length;
  return {
    text,
    sections: start < trimmedEnd ? [{ headingPath: [], start, end: trimmedEnd, page: null }] : [],
    title: null,
  };
}
