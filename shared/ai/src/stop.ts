/**
 * Stop sequences for upstreams that do not take `stop` themselves (Workers AI, the local model):
 * the answer ends right before the first occurrence of any stop sequence, which is not included,
 * and the finish reason is "stop".
 *
 * Streaming-safe: `createStopScanner` holds back only the end of the text so far that could still
 * grow into a stop sequence (the longest suffix that is a proper prefix of one, so at most
 * maxStopLength - 1 characters), which means a sequence split across tokens is still caught and
 * nothing after it is ever emitted. Stop sequences start with a whole character, so the cut never
 * splits a surrogate pair. Empty sequences are ignored.
 */

export interface StopScanner {
  /** Takes the next piece of text; returns what may be emitted now and whether a stop sequence was reached. */
  push(piece: string): { text: string; stopped: boolean };
  /** At the end of the answer: the text still held back (no stop sequence can complete any more). */
  flush(): string;
}

/** A scanner for `stops`; with none it passes every piece through at once. */
export function createStopScanner(stops: readonly string[] | undefined): StopScanner {
  const sequences = (stops ?? []).filter((stop) => stop.length > 0);
  let held = "";
  let stopped = false;
  return {
    push(piece) {
      if (stopped) return { text: "", stopped: true };
      if (sequences.length === 0) return { text: piece, stopped: false };
      held += piece;
      const at = firstStop(held, sequences);
      if (at !== undefined) {
        const text = held.slice(0, at);
        held = "";
        stopped = true;
        return { text, stopped: true };
      }
      const keep = heldBackLength(held, sequences);
      const text = held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
      return { text, stopped: false };
    },
    flush() {
      const text = held;
      held = "";
      return text;
    },
  };
}

/** A whole text cut before its first stop sequence. */
export function cutAtStop(text: string, stops: readonly string[] | undefined): { text: string; stopped: boolean } {
  const at = firstStop(
    text,
    (stops ?? []).filter((stop) => stop.length > 0),
  );
  return at === undefined ? { text, stopped: false } : { text: text.slice(0, at), stopped: true };
}

/** Where the earliest stop sequence starts in `text`, if any does. */
function firstStop(text: string, sequences: readonly string[]): number | undefined {
  let first: number | undefined;
  for (const stop of sequences) {
    const at = text.indexOf(stop);
    if (at !== -1 && (first === undefined || at < first)) first = at;
  }
  return first;
}

/** The length of the longest suffix of `text` that is a proper prefix of some stop sequence. */
function heldBackLength(text: string, sequences: readonly string[]): number {
  let longest = 0;
  for (const stop of sequences) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}
