import { describe, expect, it } from "vitest";
import { type ModelCallPoint, type TenantContext, USAGE_LIMITS } from "@crispy/contracts";
import { USAGE_FLUSH_DELAY_MS, UsageBatcher, type UsageSink, usageSink } from "../src/usage-batcher";

function tenantOf(tenantId: string, requestId: string): TenantContext {
  return {
    tenantId,
    requestId,
    traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`,
    scopes: ["chat"],
    config: { id: tenantId } as TenantContext["config"],
  };
}

function point(requestId: string): ModelCallPoint {
  return {
    kind: "model",
    ts: 1_700_000_000_000,
    requestId,
    keyId: "key_1",
    worker: "chat",
    operation: "chat",
    model: "local/echo-1",
    promptTokens: 3,
    completionTokens: 5,
    latencyMs: 7,
    ttftMs: null,
    cacheHit: false,
    outcome: "ok",
  };
}

/**
 * A sink with a hand-driven clock: `sleep` resolves when `advance` passes its time, or never when
 * `timersLost` is set (a request context torn down before its timer fired). Every call is kept,
 * and so is every piece of work handed to `keepAlive` (what `ctx.waitUntil` would keep alive).
 */
function fakeSink() {
  let clock = 0;
  let timers: Array<{ at: number; fire: () => void }> = [];
  const calls: Array<{ tenant: TenantContext; points: ModelCallPoint[] }> = [];
  const kept: Promise<unknown>[] = [];
  const state = { timersLost: false };
  const sink: UsageSink<ModelCallPoint> = {
    send: async (tenant, points) => {
      calls.push({ tenant, points });
    },
    keepAlive: (work) => kept.push(work),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (!state.timersLost) timers.push({ at: clock + ms, fire: resolve });
      }),
    now: () => clock,
  };
  const advance = async (ms: number) => {
    clock += ms;
    const due = timers.filter((t) => t.at <= clock);
    timers = timers.filter((t) => t.at > clock);
    for (const t of due) t.fire();
    // Let the fired flushes run to their end (a real timer turn, after every queued microtask).
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { sink, calls, kept, state, advance };
}

describe("UsageBatcher", () => {
  it("sends the points of many requests of a second in one call per tenant, never mixing tenants", async () => {
    const { sink, calls, advance } = fakeSink();
    const batcher = new UsageBatcher<ModelCallPoint>();
    for (let i = 0; i < 30; i++) {
      batcher.add(tenantOf(i % 2 ? "acme" : "globex", `req-${i}`), [point(`req-${i}`)], sink);
    }
    expect(calls).toEqual([]);
    expect(batcher.size).toBe(30);
    await advance(USAGE_FLUSH_DELAY_MS - 1);
    expect(calls).toEqual([]);
    await advance(1);
    expect(calls).toHaveLength(2);
    for (const { tenant, points } of calls) {
      expect(points).toHaveLength(15);
      // Every point of a call is its tenant's, and the call carries that tenant's latest context.
      const expected = tenant.tenantId === "acme" ? (i: number) => i % 2 === 1 : (i: number) => i % 2 === 0;
      const ids = points.map((p) => Number(p.requestId.slice(4)));
      expect(ids.every(expected)).toBe(true);
      expect(tenant.requestId).toBe(`req-${Math.max(...ids)}`);
    }
    expect(batcher.size).toBe(0);
  });

  it("keeps the scheduled flush alive with the request's keepAlive (waitUntil), so it outlives the response", async () => {
    const { sink, calls, kept, advance } = fakeSink();
    const batcher = new UsageBatcher<ModelCallPoint>();
    batcher.add(tenantOf("acme", "r1"), [point("r1")], sink);
    batcher.add(tenantOf("acme", "r2"), [point("r2")], sink);
    // One flush scheduled for both, and it is the work handed to keepAlive that sends them.
    expect(kept).toHaveLength(1);
    await advance(USAGE_FLUSH_DELAY_MS);
    expect(calls.map((c) => c.points.map((p) => p.requestId))).toEqual([["r1", "r2"]]);
    // The next point starts a new batch.
    batcher.add(tenantOf("acme", "r3"), [point("r3")], sink);
    expect(kept).toHaveLength(2);
    await advance(USAGE_FLUSH_DELAY_MS);
    expect(calls.map((c) => c.points.map((p) => p.requestId))).toEqual([["r1", "r2"], ["r3"]]);
  });

  it("sends a tenant's batch at once when it reaches the per-call limit, and never more than the limit in a call", async () => {
    const { sink, calls, advance } = fakeSink();
    const batcher = new UsageBatcher<ModelCallPoint>();
    const many = Array.from({ length: USAGE_LIMITS.maxPointsPerCall + 5 }, (_, i) => point(`p${i}`));
    batcher.add(tenantOf("acme", "big"), many, sink);
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.points).toHaveLength(USAGE_LIMITS.maxPointsPerCall);
    expect(batcher.size).toBe(5);
    await advance(USAGE_FLUSH_DELAY_MS);
    expect(calls.map((c) => c.points.length)).toEqual([USAGE_LIMITS.maxPointsPerCall, 5]);
  });

  it("schedules a new flush when the last one's timer was lost with its context", async () => {
    const { sink, calls, state, advance } = fakeSink();
    const batcher = new UsageBatcher<ModelCallPoint>();
    state.timersLost = true;
    batcher.add(tenantOf("acme", "lost"), [point("lost")], sink);
    await advance(USAGE_FLUSH_DELAY_MS);
    expect(calls).toEqual([]);
    state.timersLost = false;
    // Still within the grace of one more delay: the lost flush is not yet given up on.
    batcher.add(tenantOf("acme", "early"), [point("early")], sink);
    await advance(USAGE_FLUSH_DELAY_MS);
    expect(calls).toEqual([]);
    // Past it (the flush is a whole delay overdue), the next point schedules a flush that sends everything waiting.
    batcher.add(tenantOf("acme", "late"), [point("late")], sink);
    await advance(USAGE_FLUSH_DELAY_MS);
    expect(calls.map((c) => c.points.map((p) => p.requestId))).toEqual([["lost", "early", "late"]]);
  });
});

describe("usageSink", () => {
  const tenant = tenantOf("acme", "req-1");

  it("sends the points to recordUsage with the tenant's context", async () => {
    const received: Array<[TenantContext, number]> = [];
    const lost: string[] = [];
    const sink = usageSink<ModelCallPoint>(
      {
        recordUsage: async (t, points) => {
          received.push([t, points.length]);
          return { ok: true };
        },
      },
      () => {},
      (_t, _n, reason) => lost.push(reason),
    );
    await sink.send(tenant, [point("a"), point("b")]);
    expect(received).toEqual([[tenant, 2]]);
    expect(lost).toEqual([]);
  });

  it("reports a refused or failed call as lost, with the count and the reason, and never rejects", async () => {
    const lost: Array<{ tenantId: string; points: number; reason: string }> = [];
    const report = (t: TenantContext, points: number, reason: string) =>
      lost.push({ tenantId: t.tenantId, points, reason });
    const refused = usageSink<ModelCallPoint>(
      { recordUsage: async () => ({ ok: false, error: { code: "bad_request", message: "points[0].ts is too old" } }) },
      () => {},
      report,
    );
    const broken = usageSink<ModelCallPoint>(
      {
        recordUsage: async () => {
          throw new Error("Network connection lost.");
        },
      },
      () => {},
      report,
    );
    await expect(refused.send(tenant, [point("a")])).resolves.toBeUndefined();
    await expect(broken.send(tenant, [point("a"), point("b")])).resolves.toBeUndefined();
    expect(lost).toEqual([
      { tenantId: "acme", points: 1, reason: "bad_request: points[0].ts is too old" },
      { tenantId: "acme", points: 2, reason: "Network connection lost." },
    ]);
  });
});
