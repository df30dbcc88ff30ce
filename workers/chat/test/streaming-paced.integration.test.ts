/**
 * Timing-dependent streaming tests. This project runs the local model with 50 ms between tokens
 * and HEARTBEAT_MS=100 (vitest.config.ts), so arrival times show whether anything buffers.
 */
import { env, exports } from "cloudflare:workers";
import type { TenantContext } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { dataOf, readSse, type DoneEvent } from "./sse";
import { SLOW_FIRST_TOKEN, makeTenant, unwrap } from "./tenant";
import { stream, complete } from "./chat";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it passes or `ms` elapse (a cancel is noticed at the next write). */
async function eventually(check: () => Promise<void>, ms = 2000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

async function messages(tenant: TenantContext, sessionId: string): Promise<string[]> {
  return unwrap(await exports.default.history(tenant, sessionId, { limit: 100 })).items.map((m) => m.content);
}

describe("paced streaming", () => {
  it("delivers each token as the model produces it (no buffering)", async () => {
    const tenant = makeTenant();
    const started = unwrap(await stream(tenant, { message: "Tell me a story about a cat and a lighthouse" }, "events"));
    const frames = await readSse(started.body);
    const tokens = frames.filter((f) => f.event === "token");
    expect(tokens.length).toBeGreaterThan(10);
    const gaps = tokens.slice(1).map((t, i) => t.at - tokens[i]!.at);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThanOrEqual(30);
    // Spread out, not a burst at the end: most gaps are close to the model's 50 ms.
    expect(gaps.filter((g) => g >= 25).length).toBeGreaterThan(gaps.length * 0.8);
  });

  it("cancelling the body aborts the model call, commits nothing and settles what was produced", async () => {
    const tenant = makeTenant();
    const first = unwrap(await complete(tenant, { message: "first turn" }));
    const started = unwrap(
      await stream(tenant, { sessionId: first.sessionId, message: "a long answer please, about everything" }, "events"),
    );
    let seen = 0;
    const frames = await readSse(started.body, (f) => f.event === "token" && ++seen === 3);
    expect(frames.some((f) => f.event === "done")).toBe(false);
    await eventually(async () => {
      expect(unwrap(await env.RATELIMIT.usage(tenant)).openReservations).toBe(0);
    });
    await sleep(1500); // longer than the rest of the answer would take
    expect(await messages(tenant, first.sessionId)).toEqual(["first turn", first.reply]);
    const usage = unwrap(await env.RATELIMIT.usage(tenant));
    // Charged: the first turn, plus the cancelled turn's prompt and the tokens it produced.
    expect(usage.daily.used).toBeGreaterThan(first.usage.totalTokens);
    expect(usage.daily.used).toBeLessThan(first.usage.totalTokens + 200);
  });

  it("sends keep-alive comments while waiting for a first token; cancelling releases the budget", async () => {
    const tenant = makeTenant();
    const started = unwrap(await stream(tenant, { message: "hello?", model: SLOW_FIRST_TOKEN }, "events"));
    const t0 = performance.now();
    let comments = 0;
    const frames = await readSse(started.body, (f) => f.comment === "keep-alive" && ++comments === 2);
    expect(frames.every((f) => f.comment === "keep-alive" && f.id === undefined)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
    await eventually(async () => {
      const usage = unwrap(await env.RATELIMIT.usage(tenant));
      expect(usage).toMatchObject({ openReservations: 0, daily: { used: 0 } });
    });
    // The new session's only turn was cancelled: it is not listed and keeps nothing.
    await eventually(async () => {
      expect(unwrap(await exports.default.listSessions(tenant, { limit: 10 })).items).toEqual([]);
      expect((await exports.default.history(tenant, started.sessionId, { limit: 10 })).ok).toBe(false);
    });
  });

  it("queues a second streamed turn on the same session until the first has committed", async () => {
    const tenant = makeTenant();
    const { sessionId } = unwrap(await complete(tenant, { message: "start" }));
    const [a, b] = await Promise.all([
      stream(tenant, { sessionId, message: "first of two" }, "events"),
      stream(tenant, { sessionId, message: "second of two" }, "events"),
    ]);
    const [framesA, framesB] = await Promise.all([readSse(unwrap(a).body), readSse(unwrap(b).body)]);
    // The two calls race to the session; whichever was admitted first must commit before the
    // other produces its first token.
    const doneAt = (frames: typeof framesA) => frames.find((f) => f.event === "done")!.at;
    const [first, second] = doneAt(framesA) < doneAt(framesB) ? [framesA, framesB] : [framesB, framesA];
    const firstTokenOfSecond = second.find((f) => f.event === "token")!;
    expect(firstTokenOfSecond.at).toBeGreaterThan(doneAt(first));
    const [summarySecond] = dataOf<DoneEvent>(second, "done");
    const [summaryFirst] = dataOf<DoneEvent>(first, "done");
    // The second turn's context holds the first turn's whole exchange.
    expect(summarySecond!.usage.promptTokens).toBeGreaterThan(summaryFirst!.usage.promptTokens);
    const userMessages = (await messages(tenant, sessionId)).filter((_, i) => i % 2 === 0);
    expect(userMessages[0]).toBe("start");
    expect(userMessages.slice(1).sort()).toEqual(["first of two", "second of two"]);
    expect(userMessages.slice(1)[0]).toBe(first === framesA ? "first of two" : "second of two");
  });
});
