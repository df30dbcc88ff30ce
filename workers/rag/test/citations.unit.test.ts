import { describe, expect, it } from "vitest";
import { CitationRewriter, checkCitations } from "../src/citations";

describe("citation checking", () => {
  it("drops invented citations with their leading space", () => {
    expect(checkCitations("Bail must not be excessive [2]. Also [7].", 3)).toEqual({
      text: "Bail must not be excessive [1]. Also.",
      cited: [2],
    });
  });

  it("renumbers in order of first citation and reuses numbers", () => {
    const checked = checkCitations("A [3]. B [1]. C [3]. D [2, 3, 9].", 3);
    expect(checked.text).toBe("A [1]. B [2]. C [1]. D [3, 1].");
    expect(checked.cited).toEqual([3, 1, 2]);
  });

  it("leaves bracketed text that is not a citation alone", () => {
    expect(checkCitations("He said [sic] and [a] and [] and [0].", 2)).toEqual({
      text: "He said [sic] and [a] and [] and.",
      cited: [],
    });
  });

  it("keeps line breaks before a dropped citation", () => {
    expect(checkCitations("Line one.\n[9] Line two [1].", 1).text).toBe("Line one.\n Line two [1].");
  });

  it("gives the same text streamed token by token, however the text is split", () => {
    const text = "From the sources: bail [2]. Trials [12] are speedy [1, 4].\nEnd [ 3 ] [x] [5";
    const whole = checkCitations(text, 3);
    for (const size of [1, 2, 3, 5, 8]) {
      const rewriter = new CitationRewriter(3);
      let out = "";
      for (let i = 0; i < text.length; i += size) out += rewriter.push(text.slice(i, i + size));
      out += rewriter.end();
      expect(out).toBe(whole.text);
      expect(rewriter.cited()).toEqual(whole.cited);
    }
    expect(whole.text).toBe("From the sources: bail [1]. Trials are speedy [2].\nEnd [3] [x] [5");
  });

  it("holds back only what could still become a citation", () => {
    const rewriter = new CitationRewriter(2);
    expect(rewriter.push("Hello ")).toBe("Hello");
    expect(rewriter.push("[")).toBe("");
    expect(rewriter.push("2")).toBe("");
    expect(rewriter.push("] world")).toBe(" [1] world");
    expect(rewriter.end()).toBe("");
  });
});
