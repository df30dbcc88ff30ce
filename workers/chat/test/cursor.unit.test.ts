import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "@crispy/contracts";
import { TITLE_MAX_CHARS, titleFrom } from "../src/directory";

describe("cursors", () => {
  it("round-trip and are opaque url-safe tokens", () => {
    const cursor = encodeCursor("history", 12345);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain("12345");
    expect(decodeCursor("history", cursor)).toBe(12345);
  });

  it("reject other kinds and garbage", () => {
    expect(decodeCursor("sessions", encodeCursor("history", 1))).toBeNull();
    for (const bad of ["", "!!!", btoa("history:-1"), btoa("history:1.5"), btoa("history:")]) {
      expect(decodeCursor("history", bad)).toBeNull();
    }
  });
});

describe("titleFrom", () => {
  it("collapses whitespace and truncates long messages", () => {
    expect(titleFrom("  Plan a\n trip  ")).toBe("Plan a trip");
    const title = titleFrom("word ".repeat(40));
    expect(title.length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(title.endsWith("…")).toBe(true);
  });
});
