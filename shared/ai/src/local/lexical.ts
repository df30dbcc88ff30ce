/**
 * Lexical building blocks of the local provider: Unicode-aware word and sentence splitting
 * (letters and digits of any script, lowercased, compatibility-normalised with diacritics folded
 * so "café" matches "cafe") and a small English stop-word
 * list, so "what is the refund policy" matches on "refund" and "policy", not on "the".
 */

const STOP_WORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have how i if in " +
    "into is it its me my no not of on or our please should so than that the their them then " +
    "there these they this to us was we were what when where which who why will with would you your"
  ).split(" "),
);

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/** Lowercased, diacritic-folded words (runs of letters and digits). */
export function words(text: string): string[] {
  const folded = text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  return folded.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Words minus stop words; falls back to all words when every word is a stop word. */
export function contentWords(text: string): string[] {
  const all = words(text);
  const content = all.filter((word) => !STOP_WORDS.has(word));
  return content.length > 0 ? content : all;
}

/** Sentences: split after . ! ? followed by whitespace, and at line breaks; trimmed, non-empty. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}
