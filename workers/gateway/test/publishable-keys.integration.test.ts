/**
 * Publishable keys and the chat widget's visitor tokens through the gateway, with the real internal
 * workers beside it (docs/widget.md): a `pk_` key is made by the operator bound to origins and to
 * the chat (and search) scopes; from one of its origins it buys a short-lived signed visitor token;
 * the token chats (streamed, with the tenant's documents) from the same origin only; each visitor
 * has its own rate limit keyed by the id in its token, the key a daily ceiling; neither the key nor
 * the token reaches any other route, nor another tenant, nor another visitor's session. Each test
 * has a tenant of its own.
 */
import { env } from "cloudflare:workers";
import type { ApiKeySummary, CreatedApiKey, ListedApiKey, TenantConfig, WidgetSession } from "@crispy/contracts";
import { MODELS } from "@crispy/testing";
import { describe, expect, it } from "vitest";
import { handle } from "../src/app";
import { signVisitorToken, VISITOR_TOKEN_PREFIX } from "../src/auth/visitor-token";
import { configOf } from "../src/config";
import { bearer, call, createKey, expectError, OPERATOR_TOKEN, registerTenant } from "./helpers";
import { readEvents } from "./sse";

const SITE = "https://shop.example";
/** The test-only secret the gateway signs visitor tokens with (vitest.config.ts). */
const TEST_WIDGET_TOKEN_SECRET = configOf(env).WIDGET_TOKEN_SECRET!;
const OTHER_SITE = "https://evil.example";
/** Prices for the test model, so a USD budget binds. */
const PRICING = { [MODELS.echo]: { promptUsdPerMillion: 1, completionUsdPerMillion: 2 } };

/** Each operator call from its own client IP (these tests make more than its per-IP limit allows). */
function randomIp(): string {
  const octet = () => Math.floor(Math.random() * 250) + 1;
  return `10.${octet()}.${octet()}.${octet()}`;
}

function operator(method: string, path: string, body?: unknown): Promise<Response> {
  return call(path, {
    method,
    headers: {
      authorization: `Bearer ${OPERATOR_TOKEN}`,
      "content-type": "application/json",
      "cf-connecting-ip": randomIp(),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function createPublishable(tenantId: string, extra: Record<string, unknown> = {}): Promise<CreatedApiKey> {
  const response = await operator("POST", `/admin/tenants/${tenantId}/keys`, {
    kind: "publishable",
    scopes: ["chat"],
    origins: [SITE],
    ...extra,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json<CreatedApiKey>();
}

function sessionRequest(key: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> {
  return call("/v1/widget/session", {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      origin: SITE,
      "cf-connecting-ip": randomIp(),
      ...headers,
    },
    body: JSON.stringify(body ?? {}),
  });
}

async function visitorSession(
  key: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<WidgetSession> {
  const response = await sessionRequest(key, headers, body);
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<WidgetSession>();
}

function visitorChat(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return call("/v1/chat", {
    method: "POST",
    headers: { ...bearer(token), "content-type": "application/json", origin: SITE, ...headers },
    body: JSON.stringify(body),
  });
}

function tenantWith(overrides: Parameters<typeof registerTenant>[0] = {}): TenantConfig {
  return registerTenant({ features: { tools: true }, ...overrides });
}

describe("creating a publishable key", () => {
  it("makes a pk_ key bound to its origins, with visitor limits and a daily ceiling by default", async () => {
    const tenant = tenantWith({ budgets: { dailyTokens: 50_000 }, pricing: PRICING });
    const created = await createPublishable(tenant.id, { origins: [SITE, "http://127.0.0.1:8788", SITE] });
    expect(created.key).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(created.kind).toBe("publishable");
    expect(created.scopes).toEqual(["chat"]);
    expect(created.publishable).toEqual({
      origins: [SITE, "http://127.0.0.1:8788"],
      visitorLimits: { requestsPerMinute: 10, burst: 5 },
    });
    expect(created.limits).toEqual({ dailyTokens: 5_000 });

    const own = await createPublishable(tenant.id, {
      scopes: ["chat", "search"],
      visitorLimits: { requestsPerMinute: 30 },
      limits: { dailyUsd: 2 },
    });
    expect(own.publishable?.visitorLimits).toEqual({ requestsPerMinute: 30, burst: 5 });
    expect(own.limits).toEqual({ dailyUsd: 2 });

    const secret = await createKey(tenant.id, ["chat"]);
    expect(secret.kind).toBe("secret");
    expect(secret.publishable).toBeUndefined();
    const listed = await operator("GET", `/admin/tenants/${tenant.id}/keys`);
    const { keys } = await listed.json<{ keys: ListedApiKey[] }>();
    expect(keys.find((k) => k.id === created.id)).toMatchObject({
      kind: "publishable",
      publishable: created.publishable,
    });
    expect(keys.find((k) => k.id === secret.id)).toMatchObject({ kind: "secret" });
  });

  it.each([
    [{ origins: undefined }, "origins"],
    [{ scopes: ["chat", "admin"] }, "scopes"],
    [{ scopes: ["chat", "ingest"] }, "scopes"],
    [{ scopes: ["search"] }, "scopes"],
    [{ scopes: ["chat", "tools"] }, "scopes"],
    [{ tools: ["current_time"] }, "tools"],
    [{ origins: ["https://shop.example/path"] }, "origins.0"],
    [{ origins: ["https://Shop.example"] }, "origins.0"],
    [{ origins: ["null"] }, "origins.0"],
    [{ origins: ["ftp://shop.example"] }, "origins.0"],
    [{ origins: [] }, "origins"],
    [{ visitorLimits: { requestsPerMinute: 100_000 } }, "visitorLimits.requestsPerMinute"],
    [{ visitorLimits: { requestsPerMinute: 5, burst: 1_000 } }, "visitorLimits.burst"],
  ])("refuses %j with a 400 naming %s", async (change, field) => {
    const tenant = tenantWith();
    const response = await operator("POST", `/admin/tenants/${tenant.id}/keys`, {
      kind: "publishable",
      scopes: ["chat"],
      origins: [SITE],
      ...change,
    });
    const error = await expectError(response, 400, "validation_failed");
    expect(error.message.startsWith(`${field}:`), error.message).toBe(true);
  });

  it("refuses origins and visitor limits on a secret key", async () => {
    const tenant = tenantWith();
    for (const [field, value] of [
      ["origins", [SITE]],
      ["visitorLimits", { requestsPerMinute: 5 }],
    ] as const) {
      const response = await operator("POST", `/admin/tenants/${tenant.id}/keys`, { scopes: ["chat"], [field]: value });
      expect((await expectError(response, 400, "validation_failed")).message).toMatch(new RegExp(`^${field}:`));
    }
  });

  it("keeps a daily ceiling through PATCH: it can change, not go", async () => {
    const tenant = tenantWith({ pricing: PRICING });
    const created = await createPublishable(tenant.id, { limits: { dailyTokens: 1_000 } });
    const removed = await operator("PATCH", `/admin/tenants/${tenant.id}/keys/${created.id}`, { limits: null });
    expect((await expectError(removed, 400, "validation_failed")).message).toMatch(/^limits: .*daily ceiling/);
    const cleared = await operator("PATCH", `/admin/tenants/${tenant.id}/keys/${created.id}`, {
      limits: { dailyTokens: null },
    });
    await expectError(cleared, 400, "validation_failed");
    const changed = await operator("PATCH", `/admin/tenants/${tenant.id}/keys/${created.id}`, {
      limits: { dailyTokens: null, dailyUsd: 1 },
    });
    expect(changed.status, await changed.clone().text()).toBe(200);
    expect((await changed.json<ApiKeySummary>()).limits).toEqual({ dailyUsd: 1 });
  });
});

describe("POST /v1/widget/session", () => {
  it("gives a visitor on one of the key's origins a signed, short-lived token, readable by that page", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const response = await sessionRequest(pk.key);
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(SITE);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const session = await response.json<WidgetSession>();
    expect(session.token.startsWith(VISITOR_TOKEN_PREFIX)).toBe(true);
    expect(session).toMatchObject({
      expiresInSeconds: 900,
      renewed: false,
      tenantId: tenant.id,
      keyId: pk.id,
      scopes: ["chat"],
      visitorLimits: { requestsPerMinute: 10, burst: 5 },
    });
    expect(session.visitorId).toMatch(/^vis_/);
    const lifetime = Date.parse(session.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(890_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
  });

  it("refuses another origin and a request with no Origin, with a message the page can read", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const other = await sessionRequest(pk.key, { origin: OTHER_SITE });
    expect(other.headers.get("access-control-allow-origin")).toBe(OTHER_SITE);
    expect((await expectError(other, 403, "forbidden")).message).toBe(
      `origin ${OTHER_SITE} is not one of this publishable key's origins`,
    );
    const none = await call("/v1/widget/session", {
      method: "POST",
      headers: { ...bearer(pk.key), "cf-connecting-ip": randomIp() },
    });
    expect((await expectError(none, 403, "forbidden")).message).toMatch(/no Origin header/);
  });

  it("refuses a secret key, an unknown or revoked key, and another tenant's", async () => {
    const tenant = tenantWith();
    const secret = await createKey(tenant.id, ["chat"]);
    expect((await expectError(await sessionRequest(secret.key), 403, "forbidden")).message).toMatch(
      /needs a publishable key/,
    );
    await expectError(await sessionRequest(`pk_${"A".repeat(43)}`), 401, "unauthorized");
    await expectError(await sessionRequest("pk_short"), 401, "unauthorized");
    const pk = await createPublishable(tenant.id);
    const other = tenantWith();
    const crossTenant = await sessionRequest(pk.key, { "x-tenant-id": other.id });
    expect((await expectError(crossTenant, 403, "forbidden")).message).toBe(
      `publishable key does not belong to tenant "${other.id}"`,
    );
    expect((await operator("DELETE", `/admin/tenants/${tenant.id}/keys/${pk.id}`)).status).toBe(200);
    expect((await expectError(await sessionRequest(pk.key), 401, "unauthorized")).message).toMatch(/revoked/);
  });

  it("renews a token into one for the same visitor; anything else starts a new visitor", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { origins: [SITE, OTHER_SITE] });
    const first = await visitorSession(pk.key);
    const renewed = await visitorSession(pk.key, {}, { previous: first.token });
    expect(renewed).toMatchObject({ renewed: true, visitorId: first.visitorId });

    // An expired token (within the renewal window) renews too.
    const expired = await signVisitorToken(TEST_WIDGET_TOKEN_SECRET, {
      tenantId: tenant.id,
      keyId: pk.id,
      keyHash: "0".repeat(64),
      visitorId: "vis_earlier",
      origin: SITE,
      expiresAt: Math.floor(Date.now() / 1000) - 3_600,
    });
    expect(await visitorSession(pk.key, {}, { previous: expired })).toMatchObject({
      renewed: true,
      visitorId: "vis_earlier",
    });

    const otherKey = await createPublishable(tenant.id);
    const foreign = await visitorSession(otherKey.key, {}, { previous: first.token });
    expect(foreign.renewed).toBe(false);
    expect(foreign.visitorId).not.toBe(first.visitorId);
    const otherOrigin = await visitorSession(pk.key, { origin: OTHER_SITE }, { previous: first.token });
    expect(otherOrigin.renewed).toBe(false);
    const forged = `${first.token.slice(0, -4)}AAAA`;
    expect((await visitorSession(pk.key, {}, { previous: forged })).renewed).toBe(false);
  });

  it("limits new visitor tokens per client IP, whatever else the request says", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { visitorLimits: { requestsPerMinute: 2, burst: 2 } });
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await sessionRequest(pk.key, { "cf-connecting-ip": ip, "x-forwarded-for": randomIp() });
      statuses.push(response.status);
      if (response.status === 429) {
        const error = await expectError(response, 429, "rate_limited");
        expect(error.message).toMatch(/per client IP: 2\/min/);
        expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(response.headers.get("access-control-allow-origin")).toBe(SITE);
      } else await response.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect((await sessionRequest(pk.key, { "cf-connecting-ip": randomIp() })).status).toBe(200);
  });

  it("answers the widget's preflights from any origin, and only the widget's", async () => {
    const preflight = (path: string, origin: string) =>
      call(path, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, x-session-ticket",
        },
      });
    for (const path of ["/v1/widget/session", "/v1/chat", "/v1/search"]) {
      const response = await preflight(path, "https://any-site.example");
      expect(response.status, path).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe("https://any-site.example");
      expect(response.headers.get("access-control-allow-headers")).toContain("x-session-ticket");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    }
    await expectError(await preflight("/v1/documents", "https://any-site.example"), 403, "forbidden");
  });
});

describe("a visitor's chat", () => {
  it("streams a turn from the key's origin, with CORS, its session and the session's ticket", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const { token } = await visitorSession(pk.key);
    const response = await visitorChat(token, { message: "Hello from the shop" });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("access-control-allow-origin")).toBe(SITE);
    expect(response.headers.get("access-control-expose-headers")).toContain("x-session-ticket");
    const sessionId = response.headers.get("x-session-id");
    expect(sessionId).toMatch(/^ses_/);
    expect(response.headers.get("x-session-ticket")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const events = await readEvents(response);
    const tokens = events.filter((e) => e.event === "token");
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.map((e) => JSON.parse(e.data).token).join("")).toContain("Hello from the shop");
    const done = JSON.parse(events.at(-1)!.data);
    expect(events.at(-1)!.event).toBe("done");
    expect(done.sessionId).toBe(sessionId);
  });

  it("answers from the tenant's documents with citations (RAG)", async () => {
    const tenant = tenantWith();
    const ingest = await createKey(tenant.id, ["ingest"]);
    const word = `zq${crypto.randomUUID().slice(0, 8)}`;
    const ingested = await call("/v1/documents?wait=true", {
      method: "POST",
      headers: bearer(ingest.key, { "content-type": "application/json" }),
      body: JSON.stringify({
        title: "Rocket skates",
        url: "https://docs.shop.example/skates",
        text: `The ${word} rocket skates carry a warranty of two years.`,
      }),
    });
    expect(ingested.status, await ingested.clone().text()).toBe(200);
    const pk = await createPublishable(tenant.id);
    const { token } = await visitorSession(pk.key);
    const events = await readEvents(
      await visitorChat(token, { message: `What warranty do ${word} skates have?`, rag: true }),
    );
    const sources = JSON.parse(events.find((e) => e.event === "sources")!.data).sources;
    expect(sources[0]).toMatchObject({ n: 1, title: "Rocket skates", url: "https://docs.shop.example/skates" });
    const answer = events
      .filter((e) => e.event === "token")
      .map((e) => JSON.parse(e.data).token)
      .join("");
    expect(answer).toMatch(/warranty of two years \[1\]/);
  });

  it("continues only the visitor's own sessions: each needs its ticket", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const alice = await visitorSession(pk.key);
    const first = await visitorChat(alice.token, { message: "first", stream: false });
    expect(first.status, await first.clone().text()).toBe(200);
    const ticket = first.headers.get("x-session-ticket")!;
    const { sessionId } = await first.json<{ sessionId: string }>();
    expect(ticket).toBeTruthy();

    const again = await visitorChat(
      alice.token,
      { message: "second", sessionId, stream: false },
      { "x-session-ticket": ticket },
    );
    expect(again.status, await again.clone().text()).toBe(200);
    expect((await again.json<{ sessionId: string }>()).sessionId).toBe(sessionId);

    const noTicket = await visitorChat(alice.token, { message: "third", sessionId });
    const refused = await expectError(noTicket, 403, "forbidden");
    expect(refused.details).toEqual({ reason: "session_not_yours" });
    expect(noTicket.headers.get("access-control-allow-origin")).toBe(SITE);

    // Another visitor of the same key, with Alice's session id and ticket: not its session.
    const bob = await visitorSession(pk.key);
    const stolen = await visitorChat(bob.token, { message: "mine now", sessionId }, { "x-session-ticket": ticket });
    await expectError(stolen, 403, "forbidden");

    // A session a secret key made is no visitor's.
    const secret = await createKey(tenant.id, ["chat"]);
    const internal = await call("/v1/chat", {
      method: "POST",
      headers: bearer(secret.key, { "content-type": "application/json" }),
      body: JSON.stringify({ message: "internal notes", stream: false }),
    });
    const internalId = (await internal.json<{ sessionId: string }>()).sessionId;
    await expectError(await visitorChat(alice.token, { message: "show me", sessionId: internalId }), 403, "forbidden");

    // Renewing keeps the visitor, so its tickets still hold.
    const renewed = await visitorSession(pk.key, {}, { previous: alice.token });
    const later = await visitorChat(
      renewed.token,
      { message: "after renewal", sessionId, stream: false },
      {
        "x-session-ticket": ticket,
      },
    );
    expect(later.status, await later.clone().text()).toBe(200);
  });

  it("refuses the token from another origin, without an Origin, and for another tenant", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { origins: [SITE, OTHER_SITE] });
    const { token } = await visitorSession(pk.key);
    const moved = await visitorChat(token, { message: "hi" }, { origin: OTHER_SITE });
    expect((await expectError(moved, 403, "forbidden")).message).toBe(
      `visitor token was issued to ${SITE}, not to ${OTHER_SITE}`,
    );
    const bare = await call("/v1/chat", {
      method: "POST",
      headers: { ...bearer(token), "content-type": "application/json" },
      body: JSON.stringify({ message: "hi" }),
    });
    expect((await expectError(bare, 403, "forbidden")).message).toMatch(/no Origin header/);
    const other = tenantWith();
    const crossTenant = await visitorChat(token, { message: "hi" }, { "x-tenant-id": other.id });
    expect((await expectError(crossTenant, 403, "forbidden")).message).toBe(
      `visitor token does not belong to tenant "${other.id}"`,
    );
  });

  it("refuses forged, tampered and expired tokens (401), and tokens of a revoked key at once", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const session = await visitorSession(pk.key);
    const [body, signature] = session.token.slice(3).split(".");
    const claims = JSON.parse(atob(body!.replaceAll("-", "+").replaceAll("_", "/")));
    const forgedBody = btoa(JSON.stringify({ ...claims, t: "acme" }))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    for (const token of [`vt_${forgedBody}.${signature}`, `${session.token}x`, "vt_nonsense", `vt_${body}.`]) {
      await expectError(await visitorChat(token, { message: "hi" }), 401, "unauthorized");
    }
    const wrongSecret = await signVisitorToken("another-secret-that-is-long-enough-000000", {
      tenantId: tenant.id,
      keyId: pk.id,
      keyHash: claims.h,
      visitorId: claims.v,
      origin: SITE,
      expiresAt: claims.e,
    });
    await expectError(await visitorChat(wrongSecret, { message: "hi" }), 401, "unauthorized");
    const expired = await signVisitorToken(TEST_WIDGET_TOKEN_SECRET, {
      tenantId: tenant.id,
      keyId: pk.id,
      keyHash: claims.h,
      visitorId: claims.v,
      origin: SITE,
      expiresAt: Math.floor(Date.now() / 1000) - 1,
    });
    const late = await expectError(await visitorChat(expired, { message: "hi" }), 401, "unauthorized");
    expect(late.details).toMatchObject({ reason: "token_expired" });

    expect((await visitorChat(session.token, { message: "hi", stream: false })).status).toBe(200);
    expect((await operator("DELETE", `/admin/tenants/${tenant.id}/keys/${pk.id}`)).status).toBe(200);
    const revoked = await visitorChat(session.token, { message: "hi", stream: false });
    expect((await expectError(revoked, 401, "unauthorized")).message).toMatch(/revoked or expired/);
  });

  it("limits each visitor by the id in its token: one visitor's limit leaves the next one served", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { visitorLimits: { requestsPerMinute: 2, burst: 2 } });
    const first = await visitorSession(pk.key);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A new client IP per request changes nothing: the visitor is who its token says.
      const response = await visitorChat(
        first.token,
        { message: `turn ${i}`, stream: false },
        { "cf-connecting-ip": randomIp() },
      );
      statuses.push(response.status);
      if (response.status === 429) {
        expect((await expectError(response, 429, "rate_limited")).message).toMatch(/per visitor: 2\/min/);
        expect(response.headers.get("access-control-allow-origin")).toBe(SITE);
      } else await response.body?.cancel();
    }
    expect(statuses).toEqual([200, 200, 429]);
    const second = await visitorSession(pk.key);
    expect((await visitorChat(second.token, { message: "my turn", stream: false })).status).toBe(200);
  });

  it("stops at the key's daily ceiling while the tenant's other keys go on", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { limits: { dailyTokens: 5 } });
    const { token } = await visitorSession(pk.key);
    const response = await visitorChat(token, { message: "Tell me everything about rocket skates, please." });
    const error = await expectError(response, 429, "budget_exceeded");
    expect(error.message).toMatch(new RegExp(`key ${pk.id}'s daily token budget \\(5\\) exceeded`));
    expect(response.headers.get("access-control-allow-origin")).toBe(SITE);
    const secret = await createKey(tenant.id, ["chat"]);
    const served = await call("/v1/chat", {
      method: "POST",
      headers: bearer(secret.key, { "content-type": "application/json" }),
      body: JSON.stringify({ message: "Still here?", stream: false }),
    });
    expect(served.status).toBe(200);
  });

  it("never runs a tool, even when the tenant offers tools and the message asks for one", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const { token } = await visitorSession(pk.key);
    const events = await readEvents(await visitorChat(token, { message: 'current_time {"timezone":"UTC"}' }));
    expect(events.map((e) => e.event)).not.toContain("tool_call");
    expect(events.at(-1)!.event).toBe("done");
    // The same message with a key that has the tools scope does call it: the test can tell.
    const tools = await createKey(tenant.id, ["chat", "tools"]);
    const withTools = await call("/v1/chat", {
      method: "POST",
      headers: bearer(tools.key, { "content-type": "application/json" }),
      body: JSON.stringify({ message: 'current_time {"timezone":"UTC"}' }),
    });
    expect((await readEvents(withTools)).map((e) => e.event)).toContain("tool_call");
  });

  it("searches only with a key that has the search scope", async () => {
    const tenant = tenantWith();
    const chatOnly = await createPublishable(tenant.id);
    const both = await createPublishable(tenant.id, { scopes: ["chat", "search"] });
    const search = (token: string) =>
      call("/v1/search", {
        method: "POST",
        headers: { ...bearer(token), "content-type": "application/json", origin: SITE },
        body: JSON.stringify({ query: "rocket skates" }),
      });
    const refused = await search((await visitorSession(chatOnly.key)).token);
    expect((await expectError(refused, 403, "forbidden")).message).toMatch(/lacks the "search" scope/);
    const served = await search((await visitorSession(both.key)).token);
    expect(served.status, await served.clone().text()).toBe(200);
    expect(served.headers.get("access-control-allow-origin")).toBe(SITE);
  });
});

describe("everywhere else", () => {
  const routes: Array<[string, string, unknown?]> = [
    ["GET", "/v1/tenant"],
    ["GET", "/v1/mesh"],
    ["GET", "/v1/keys"],
    ["GET", "/v1/usage"],
    ["GET", "/v1/audit"],
    ["GET", "/v1/sessions"],
    ["GET", "/v1/sessions/ses_0123456789abcdef0123456789abcdef"],
    ["DELETE", "/v1/sessions/ses_0123456789abcdef0123456789abcdef"],
    ["POST", "/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] }],
    ["POST", "/chat", { message: "hi" }],
    ["POST", "/v1/documents", { text: "hello" }],
    ["GET", "/v1/documents"],
    ["POST", "/ingest", { text: "hello" }],
    ["GET", "/v1/tools"],
    ["POST", "/v1/tools/current_time/execute", {}],
    ["GET", "/v1/mcp-servers"],
    ["POST", "/mcp", { jsonrpc: "2.0", id: 1, method: "tools/list" }],
    ["POST", "/v1/embeddings", { input: "hi" }],
    ["POST", "/v1/audio/speech", { input: "hi", voice: "alloy" }],
    ["GET", "/admin/tenants/acme/keys"],
    ["POST", "/admin/tenants/acme/keys", { scopes: ["admin"] }],
    ["GET", "/admin/usage"],
  ];

  it("refuses a publishable key on every route but the session's, and on chat itself", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { scopes: ["chat", "search"] });
    for (const [method, path, body] of [
      ...routes,
      ["POST", "/v1/chat", { message: "hi" }] as [string, string, unknown],
    ]) {
      const response = await call(path, {
        method,
        headers: { ...bearer(pk.key), "content-type": "application/json", origin: SITE },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const error = await expectError(response, 403, "forbidden");
      expect(error.message, `${method} ${path}`).toMatch(/publishable key works only on POST \/v1\/widget\/session/);
    }
    const asApiKey = await call("/v1/tenant", { headers: { "x-api-key": pk.key } });
    await expectError(asApiKey, 403, "forbidden");
  });

  it("refuses a visitor token on every route but chat and search", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id, { scopes: ["chat", "search"] });
    const { token } = await visitorSession(pk.key);
    for (const [method, path, body] of [...routes, ["POST", "/v1/widget/session", {}] as [string, string, unknown]]) {
      const response = await call(path, {
        method,
        headers: { ...bearer(token), "content-type": "application/json", origin: SITE },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const error = await expectError(response, 403, "forbidden");
      expect(error.message, `${method} ${path}`).toMatch(
        /visitor token works only on POST \/v1\/chat and POST \/v1\/search/,
      );
    }
  });

  it("keeps widget sessions off while WIDGET_TOKEN_SECRET is unset", async () => {
    const tenant = tenantWith();
    const pk = await createPublishable(tenant.id);
    const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined } as unknown as ExecutionContext;
    const response = await handle(
      new Request("http://gateway.test/v1/widget/session", {
        method: "POST",
        headers: { ...bearer(pk.key), origin: SITE, "cf-connecting-ip": randomIp() },
      }),
      { ...env, WIDGET_TOKEN_SECRET: "" } as unknown as GatewayEnv,
      ctx,
    );
    expect((await expectError(response, 403, "forbidden")).message).toMatch(/WIDGET_TOKEN_SECRET/);
  });
});
