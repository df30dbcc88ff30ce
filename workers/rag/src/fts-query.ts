/**
 * User text → an FTS5 MATCH expression that can only mean "any of these words".
 *
 * FTS5 has its own query language (`OR`, `NOT`, `NEAR(…)`, `col:`, `^`, `*`, quotes, parentheses);
 * passing user input through would let it change the query, or throw a syntax error. So the text
 * is reduced to its words (runs of letters and digits, lowercased, diacritics folded) and each word
 * becomes a double-quoted string — which FTS5 treats as a literal phrase, even `"or"` or `"near"` —
 * joined with OR so a natural-language question matches chunks sharing any of its words, with
 * bm25() ranking those that share more, and rarer, words first.
 *
 * Stop words are dropped: with OR semantics, "what is the …" would match nearly every chunk and
 * make every question look answerable. A query of stop words only has no terms (no lexical hits).
 */

const STOP_WORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have how i if in " +
    "into is it its me my no not of on or our please should so than that the their them then " +
    "there these they this to us was we were what when where which who whom why will with would " +
    "you your"
  ).split(" "),
);

/** Terms kept from one query (the rest are ignored). */
export const MAX_QUERY_TERMS = 32;
/** Characters kept of one term (longer runs are not words anyone searches for). */
const MAX_TERM_CHARS = 64;

/** The distinct search terms of a text: lowercased, diacritic-folded words minus stop words. */
export function queryTerms(text: string): string[] {
  const folded = text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  const words = folded.match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms = new Set<string>();
  for (const word of words) {
    if (STOP_WORDS.has(word)) continue;
    terms.add(word.slice(0, MAX_TERM_CHARS));
    if (terms.size === MAX_QUERY_TERMS) break;
  }
  return [...terms];
}

/** The FTS5 MATCH expression for a text (`"a" OR "b"`), or null when it has no search terms. */
export function ftsMatchExpression(text: string): string | null {
  const terms = queryTerms(text);
  if (terms.length === 0) return null;
  // Terms hold only letters and digits, so they can contain no double quote to escape.
  return terms.map((term) => `"${term}"`).join(" OR ");
}
