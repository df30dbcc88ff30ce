import { describe, expect, it } from "vitest";
import { MAX_QUERY_TERMS, ftsMatchExpression, queryTerms } from "../src/fts-query";

describe("FTS query sanitising", () => {
  it("turns a question into quoted content words joined by OR", () => {
    expect(ftsMatchExpression("What is the refund policy?")).toBe('"refund" OR "policy"');
  });

  it("treats FTS5 syntax in user input as plain words (OR and AND are stop words)", () => {
    expect(ftsMatchExpression('"foo" OR bar* NEAR(baz, 2) title:qux ^quux -x AND (y)')).toBe(
      '"foo" OR "bar" OR "near" OR "baz" OR "2" OR "title" OR "qux" OR "quux" OR "x" OR "y"',
    );
  });

  it("has no expression for input without words, or with stop words only", () => {
    expect(ftsMatchExpression('"*" () ^ : -- NEAR(')).toBe('"near"');
    expect(ftsMatchExpression('"" * () ^ :')).toBeNull();
    expect(ftsMatchExpression("what is it")).toBeNull();
  });

  it("folds case and diacritics, drops duplicates, and caps the number of terms", () => {
    expect(queryTerms("Café CAFE cafe naïve")).toEqual(["cafe", "naive"]);
    const many = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");
    expect(queryTerms(many)).toHaveLength(MAX_QUERY_TERMS);
  });
});
