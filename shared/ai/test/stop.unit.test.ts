import { describe, expect, it } from "vitest";
import { createStopScanner, cutAtStop } from "../src/stop";

/** Feeds `pieces` through a scanner; returns what it emitted, per piece, and whether it stopped. */
function scan(pieces: readonly string[], stops: readonly string[]) {
  const scanner = createStopScanner(stops);
  const emitted: string[] = [];
  let stopped = false;
  for (const piece of pieces) {
    const out = scanner.push(piece);
    emitted.push(out.text);
    if (out.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) emitted.push(scanner.flush());
  return { text: emitted.join(""), emitted, stopped };
}

/** Every way to cut `text` into two pieces at a character boundary (as decoded text arrives), plus one per character. */
function splits(text: string): string[][] {
  const chars = Array.from(text);
  const all = [chars];
  for (let at = 0; at <= chars.length; at++) all.push([chars.slice(0, at).join(""), chars.slice(at).join("")]);
  return all;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("stop sequences", () => {
  it("ends the answer before a stop sequence split across tokens, holding back no more than needed", () => {
    const { text, emitted, stopped } = scan(["Hello wor", "ld EN", "D and more"], ["END"]);
    expect(text).toBe("Hello world ");
    expect(stopped).toBe(true);
    // "EN" could still become "END", so only "ld " went out with the second piece.
    expect(emitted).toEqual(["Hello wor", "ld ", ""]);
  });

  it("holds back at most the longest stop sequence minus one character", () => {
    const scanner = createStopScanner(["<|end|>", "\n\n"]);
    expect(scanner.push("abc <|end")).toEqual({ text: "abc ", stopped: false });
    expect(scanner.push("ed and more <|en")).toEqual({ text: "<|ended and more ", stopped: false });
    expect(scanner.flush()).toBe("<|en");
  });

  it.each([
    ["The answer is 42.\n\nFootnote", ["\n\n"], "The answer is 42."],
    ["alpha STOP beta END", ["END", "STOP"], "alpha "],
    ["aaab", ["aab"], "a"],
    ["café ☕ 🚀 stop here", ["stop"], "café ☕ 🚀 "],
    ["nothing to see", ["xyz"], "nothing to see"],
    ["no sequences at all", [], "no sequences at all"],
  ])("cuts %j at the first of %j, however the text is split into tokens", (text, stops, expected) => {
    expect(cutAtStop(text, stops).text).toBe(expected);
    for (const pieces of splits(text)) {
      expect(scan(pieces, stops).text, JSON.stringify(pieces)).toBe(expected);
    }
  });

  it("never emits a lone half of a surrogate pair", () => {
    for (const pieces of splits("🚀🚀 x🚀y")) {
      const { emitted, text } = scan(pieces, ["🚀y", "🚀z"]);
      expect(text).toBe("🚀🚀 x");
      for (const text of emitted) expect(LONE_SURROGATE.test(text), JSON.stringify(pieces)).toBe(false);
    }
  });

  it("ignores empty sequences and says whether it cut", () => {
    expect(cutAtStop("abc", ["", "b"])).toEqual({ text: "a", stopped: true });
    expect(cutAtStop("abc", [""])).toEqual({ text: "abc", stopped: false });
    expect(scan(["abc"], [""]).text).toBe("abc");
  });
});
