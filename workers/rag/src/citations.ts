/**
 * Citation checking. The model sees the retrieved chunks as sources [1]..[n] and is asked to cite
 * them inline; what it writes is rewritten so that:
 * - a citation of a number that is not a retrieved chunk (an invented `[7]` when 5 were given) is
 *   removed from the text, with the spaces before it;
 * - the remaining citations are renumbered 1, 2, … in order of first citation, and that order is
 *   the order of the answer's sources.
 * Groups such as `[2, 5]` are handled number by number; bracketed text that is not a list of
 * numbers (`[sic]`, `[a]`) is left alone.
 *
 * The rewriter works on a stream of text pieces (model tokens), holding back only what could still
 * become a citation (trailing whitespace, or an unclosed `[` followed by digits, commas and
 * spaces), so streamed answers are checked as they are produced and come out exactly as the
 * non-streamed ones (`checkCitations` runs the same rewriter over the whole text).
 */

/** An unclosed candidate longer than this cannot be a citation any more. */
const MAX_PENDING_CHARS = 24;
const CANDIDATE = /^([ \t]*)\[([\d,\s]*)\]/;
const OPEN_CANDIDATE = /^[ \t]*(\[[\d,\s]*)?$/;

export class CitationRewriter {
  readonly #sourceCount: number;
  /** Original source number (1-based) → new number, in order of first citation. */
  readonly #renumbered = new Map<number, number>();
  #pending = "";

  constructor(sourceCount: number) {
    this.#sourceCount = sourceCount;
  }

  /** The original source numbers in order of first citation (index + 1 = new number). */
  cited(): number[] {
    return [...this.#renumbered.keys()];
  }

  /** Adds a piece of model text; returns the checked text that can be emitted now. */
  push(piece: string): string {
    this.#pending += piece;
    return this.#drain(false);
  }

  /** Ends the text; returns whatever was held back, checked. */
  end(): string {
    return this.#drain(true);
  }

  #drain(final: boolean): string {
    let out = "";
    let text = this.#pending;
    for (;;) {
      const start = text.search(/[ \t]*\[/);
      if (start === -1) {
        // No bracket ahead: hold back trailing spaces only (a "[" may follow them).
        const keep = final ? 0 : (/[ \t]*$/.exec(text)?.[0].length ?? 0);
        out += text.slice(0, text.length - keep);
        text = text.slice(text.length - keep);
        break;
      }
      out += text.slice(0, start);
      text = text.slice(start);
      const match = CANDIDATE.exec(text);
      if (match) {
        out += this.#rewrite(match[1]!, match[2]!, match[0]);
        text = text.slice(match[0].length);
        continue;
      }
      if (!final && OPEN_CANDIDATE.test(text) && text.length <= MAX_PENDING_CHARS) break;
      // Not a citation: emit up to and including the "[" and look further.
      const bracket = text.indexOf("[");
      out += text.slice(0, bracket + 1);
      text = text.slice(bracket + 1);
    }
    this.#pending = text;
    return out;
  }

  /** One `[…]` group: its valid numbers renumbered, or nothing (with its whitespace) when none is valid. */
  #rewrite(space: string, inside: string, whole: string): string {
    const numbers = inside
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "");
    if (numbers.length === 0 || numbers.some((part) => !/^\d{1,6}$/.test(part))) return whole;
    const kept: number[] = [];
    for (const part of numbers) {
      const n = Number(part);
      if (n < 1 || n > this.#sourceCount) continue;
      if (!this.#renumbered.has(n)) this.#renumbered.set(n, this.#renumbered.size + 1);
      const renumbered = this.#renumbered.get(n)!;
      if (!kept.includes(renumbered)) kept.push(renumbered);
    }
    return kept.length === 0 ? "" : `${space}[${kept.join(", ")}]`;
  }
}

export interface CheckedText {
  text: string;
  /** Original source numbers (1-based) in order of first citation. */
  cited: number[];
}

/** Checks a whole answer at once (the same rules as streaming). */
export function checkCitations(text: string, sourceCount: number): CheckedText {
  const rewriter = new CitationRewriter(sourceCount);
  const out = rewriter.push(text) + rewriter.end();
  return { text: out, cited: rewriter.cited() };
}
