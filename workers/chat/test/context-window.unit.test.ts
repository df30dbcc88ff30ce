import { describe, expect, it } from "vitest";
import { MESSAGE_OVERHEAD_TOKENS, fitContext, type CountedMessage } from "../src/context-window";

const m = (role: CountedMessage["role"], content: string, tokens: number): CountedMessage => ({
  role,
  content,
  tokens,
});
const cost = (tokens: number) => tokens + MESSAGE_OVERHEAD_TOKENS;

describe("fitContext", () => {
  it("keeps everything that fits, in order", () => {
    const messages = [m("system", "s", 10), m("user", "u1", 10), m("assistant", "a1", 10), m("user", "u2", 10)];
    const window = fitContext(messages, 1000);
    expect(window.messages.map((x) => x.content)).toEqual(["s", "u1", "a1", "u2"]);
    expect(window.promptTokens).toBe(4 * cost(10));
    expect(window.dropped).toBe(0);
  });

  it("cuts history from the oldest, keeping system and the last message", () => {
    const messages = [
      m("system", "s", 100),
      m("user", "u1", 100),
      m("assistant", "a1", 100),
      m("user", "u2", 100),
      m("assistant", "a2", 100),
      m("user", "u3", 100),
    ];
    const window = fitContext(messages, 4 * cost(100));
    expect(window.messages.map((x) => x.content)).toEqual(["s", "u2", "a2", "u3"]);
    expect(window.dropped).toBe(2);
    expect(window.promptTokens).toBe(4 * cost(100));
  });

  it("does not start the history with a reply whose question was cut", () => {
    const messages = [m("user", "u1", 100), m("assistant", "a1", 100), m("user", "u2", 100)];
    const window = fitContext(messages, 2 * cost(100));
    expect(window.messages.map((x) => x.content)).toEqual(["u2"]);
    expect(window.promptTokens).toBe(cost(100));
  });

  it("stops at the first message that does not fit (no gaps)", () => {
    const messages = [
      m("user", "small", 1),
      m("assistant", "huge", 10_000),
      m("user", "u2", 10),
      m("assistant", "a2", 10),
      m("user", "u3", 10),
    ];
    expect(fitContext(messages, 1000).messages.map((x) => x.content)).toEqual(["u2", "a2", "u3"]);
  });

  it("always keeps the question, even over budget", () => {
    const window = fitContext([m("user", "old", 5), m("user", "giant", 50_000)], 100);
    expect(window.messages.map((x) => x.content)).toEqual(["giant"]);
    expect(window.promptTokens).toBe(cost(50_000));
  });
});
