import { describe, expect, it } from "vitest";
import { decide } from "../src/admission/decision";
import type { RateTake } from "../src/admission/rate-lease";

function result(overrides: Partial<RateTake>): RateTake {
  const base = { allowed: true, remaining: 5, resetSeconds: 1, retryAfterSeconds: 0, limit: 60 };
  return { ...base, ...overrides };
}

describe("decide", () => {
  it("admitted: reports the limit with fewer remaining", () => {
    const subject = result({ remaining: 7, limit: 60, resetSeconds: 3 });
    const tenant = result({ remaining: 2, limit: 600, resetSeconds: 9 });
    expect(decide(subject, tenant)).toEqual({
      allowed: true,
      limit: 600,
      remaining: 2,
      resetSeconds: 9,
      retryAfterSeconds: 0,
      scope: "tenant",
    });
    expect(decide(tenant, subject).scope).toBe("subject");
  });

  it("refused by one: reports the one that refused, even with more remaining elsewhere", () => {
    const subject = result({ remaining: 0, limit: 60 });
    const tenant = result({ allowed: false, remaining: 0, retryAfterSeconds: 4, limit: 600 });
    expect(decide(subject, tenant)).toMatchObject({
      allowed: false,
      scope: "tenant",
      limit: 600,
      retryAfterSeconds: 4,
      remaining: 0,
    });
  });

  it("refused by both: reports the longer wait", () => {
    const subject = result({ allowed: false, remaining: 0, retryAfterSeconds: 10 });
    const tenant = result({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
    expect(decide(subject, tenant)).toMatchObject({ scope: "subject", retryAfterSeconds: 10 });
  });
});
