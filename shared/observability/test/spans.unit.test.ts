import { describe, expect, it } from "vitest";
import { ConfigError } from "@crispy/worker-kit/config";
import { Spans, now, round, tracingOn } from "../src/index";

describe("Spans", () => {
  it("sums spans of one name and lists them in first-recorded order, total last", () => {
    const spans = new Spans();
    spans.add("auth", 1.24);
    spans.add("chat", 10);
    spans.add("tool", 2);
    spans.add("tool", 3.5);
    expect(spans.timings()).toEqual({ auth: 1.24, chat: 10, tool: 5.5 });
    expect(spans.serverTiming(20.06)).toBe("auth;dur=1.2, chat;dur=10, tool;dur=5.5, total;dur=20.1");
  });

  it("is only total when nothing was recorded", () => {
    expect(new Spans().serverTiming(3)).toBe("total;dur=3");
  });

  it("ends a span from a now() reading", async () => {
    const spans = new Spans();
    const started = now();
    await new Promise((resolve) => setTimeout(resolve, 25));
    spans.end("wait", started);
    expect(spans.timings().wait).toBeGreaterThanOrEqual(20);
  });

  it("keeps the first value of a once() span", () => {
    const spans = new Spans();
    spans.once("ttft", 4);
    spans.once("ttft", 9);
    expect(spans.timings()).toEqual({ ttft: 4 });
  });

  it("merges a callee's timings, dropping what would break the header or pollute the object", () => {
    const spans = new Spans();
    spans.add("model", 1);
    spans.merge({ model: 2, ttft: 0.5 });
    spans.merge(JSON.parse('{"__proto__": 5, "Bad Name": 1, "x;dur=9, evil": 1, "neg": -1, "nan": "7", "ok": 1e400}'));
    spans.merge(null);
    spans.merge("model;dur=1");
    spans.merge([3]);
    expect(spans.timings()).toEqual({ model: 3, ttft: 0.5 });
    expect(Object.getPrototypeOf(spans.timings())).toBe(Object.prototype);
    expect(spans.serverTiming(4)).toBe("model;dur=3, ttft;dur=0.5, total;dur=4");
  });

  it("gives a copy: changing it does not change the spans", () => {
    const spans = new Spans();
    spans.add("rag", 1);
    const copy = spans.timings();
    copy.rag = 100;
    expect(spans.timings()).toEqual({ rag: 1 });
  });

  it("rounds to a tenth of a millisecond", () => {
    expect(round(0.04)).toBe(0);
    expect(round(12.345)).toBe(12.3);
  });
});

describe("tracingOn", () => {
  it("is on by default and when set to on, off when set to off", () => {
    expect(tracingOn("gateway", {})).toBe(true);
    expect(tracingOn("gateway", { TRACING: "" })).toBe(true);
    expect(tracingOn("gateway", { TRACING: "on" })).toBe(true);
    expect(tracingOn("gateway", { TRACING: " off " })).toBe(false);
  });

  it("refuses any other value with a ConfigError naming the variable", () => {
    const read = () => tracingOn("chat", { TRACING: "maybe" });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/crispy-chat configuration: TRACING must be one of "on", "off" \(got "maybe"\)/);
  });
});
