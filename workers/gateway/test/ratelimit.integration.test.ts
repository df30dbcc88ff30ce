import { describe, expect, it } from "vitest";
import { bearer, call, createKey, expectError } from "./helpers";

// acme: perKey 120/min with burst 20; tenant-wide 600/min with burst 100 (tenants/acme).
const ACME_KEY_BURST = 20;

describe("request-rate limits through the gateway", () => {
  it("admits exactly N of 5×N concurrent requests against a limit of N", async () => {
    const { key } = await createKey("acme");
    const responses = await Promise.all(
      Array.from({ length: 5 * ACME_KEY_BURST }, () => call("/v1/tenant", { headers: bearer(key) })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(ACME_KEY_BURST);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4 * ACME_KEY_BURST);

    const refused = responses.find((r) => r.status === 429)!;
    const error = await expectError(refused, 429, "rate_limited");
    expect(error.details).toMatchObject({ scope: "subject", limit: 120 });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("ratelimit-limit")).toBe("120");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(refused.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
  });

  it("sets RateLimit headers on admitted responses, counting down", async () => {
    const { key } = await createKey("globex");
    const first = await call("/v1/tenant", { headers: bearer(key) });
    const second = await call("/v1/tenant", { headers: bearer(key) });
    expect(first.headers.get("ratelimit-limit")).toBe("60");
    expect(Number(second.headers.get("ratelimit-remaining"))).toBe(
      Number(first.headers.get("ratelimit-remaining")) - 1,
    );
  });

  it("limits each key separately: one exhausted key does not block another", async () => {
    const { key: hot } = await createKey("acme");
    const { key: cold } = await createKey("acme");
    await Promise.all(Array.from({ length: ACME_KEY_BURST + 5 }, () => call("/v1/tenant", { headers: bearer(hot) })));
    expect((await call("/v1/tenant", { headers: bearer(hot) })).status).toBe(429);
    expect((await call("/v1/tenant", { headers: bearer(cold) })).status).toBe(200);
  });

  it("does not rate-limit /health", async () => {
    const responses = await Promise.all(Array.from({ length: 40 }, () => call("/health")));
    expect(responses.every((r) => r.status === 200)).toBe(true);
  });
});

describe("token budget readout", () => {
  it("reports the tenant's daily and monthly budgets with nothing hidden from other tenants", async () => {
    const { key } = await createKey("globex");
    const response = await call("/v1/usage", { headers: bearer(key) });
    expect(response.status).toBe(200);
    const body = await response.json<{
      daily: { limit: number; used: number; resetsAt: string };
      monthly: { limit: number };
    }>();
    expect(body.daily.limit).toBe(50_000);
    expect(body.monthly.limit).toBe(1_000_000);
    expect(body.daily.used).toBe(0);
    expect(Date.parse(body.daily.resetsAt)).toBeGreaterThan(Date.now());
  });
});
