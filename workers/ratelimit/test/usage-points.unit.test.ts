/** Usage points' prices and their Analytics Engine layout (docs/usage.md queries rely on it). */
import { describe, expect, it } from "vitest";
import { checkPoints, costOf, dataPointOf } from "../src/usage-points";

const pricing = { "m/priced": { promptUsdPerMillion: 3, completionUsdPerMillion: 15 } };

describe("costOf", () => {
  it("prices prompt and completion tokens per million, and an unpriced model at 0", () => {
    expect(costOf(pricing, "m/priced", 1_000_000, 2_000_000)).toBe(33);
    expect(costOf(pricing, "m/priced", 10, 0)).toBeCloseTo(0.00003, 12);
    expect(costOf(pricing, "local/echo-1", 1_000_000, 1_000_000)).toBe(0);
    expect(costOf(pricing, "constructor", 5, 5)).toBe(0);
  });
});

describe("dataPointOf", () => {
  it("writes the documented blob and double positions, indexed by tenant", () => {
    const now = Date.now();
    const checked = checkPoints(
      [
        {
          kind: "request",
          ts: now,
          requestId: "req-1",
          keyId: "key_1",
          route: "/v1/chat",
          method: "POST",
          status: 429,
          latencyMs: 12,
        },
        {
          kind: "model",
          ts: now,
          requestId: "req-1",
          keyId: null,
          worker: "rag",
          operation: "search",
          model: "m/priced",
          promptTokens: 1000,
          completionTokens: 100,
          latencyMs: 80,
          ttftMs: null,
          cacheHit: true,
          outcome: "aborted",
        },
      ],
      pricing,
      now,
    );
    if (!checked.ok) throw new Error(checked.problem);
    const [request, call] = checked.points.map((point) => dataPointOf("acme", point));
    expect(request).toEqual({
      indexes: ["acme"],
      blobs: ["request", "req-1", "key_1", "/v1/chat", "POST", "", "gateway", "", ""],
      doubles: [429, 12, 0, 0, -1, 0, 0],
    });
    expect(call).toEqual({
      indexes: ["acme"],
      blobs: ["model", "req-1", "", "", "", "m/priced", "rag", "search", "aborted"],
      doubles: [0, 80, 1000, 100, -1, 0.0045, 1],
    });
  });
});
