import { env, exports } from "cloudflare:workers";
import { TOOL_LIMITS } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { callOf, failure, httpTool, serverUrl, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;
const SECRET = "s3cret-http-token-41b7";

interface Echo {
  method: string;
  query: Record<string, string[]>;
  body: unknown;
  authorization: string | null;
  apiKey: string | null;
}

describe("HTTP tools", () => {
  it("sends the input as a JSON body, or as query parameters for GET and DELETE, with the tool's headers", async () => {
    const tenant = toolsTenant();
    const parameters = { type: "object", properties: {} };
    unwrap(await tools.create(tenant, httpTool({ name: "post", parameters, headers: { "X-Team": "blue" } })));
    unwrap(
      await tools.create(tenant, httpTool({ name: "get", parameters, method: "GET", url: serverUrl("/echo?fixed=1") })),
    );
    unwrap(await tools.create(tenant, httpTool({ name: "delete", parameters, method: "DELETE" })));
    const input = { city: "Oslo", days: 3, tags: ["a", "b"], exact: true, where: { lat: 1 } };

    const posted = JSON.parse(unwrap(await tools.execute(tenant, callOf("post", input))).output) as Echo;
    expect(posted).toMatchObject({ method: "POST", body: input, query: {} });
    const got = JSON.parse(unwrap(await tools.execute(tenant, callOf("get", input))).output) as Echo;
    expect(got).toMatchObject({
      method: "GET",
      body: null,
      query: { fixed: ["1"], city: ["Oslo"], days: ["3"], tags: ["a", "b"], exact: ["true"], where: ['{"lat":1}'] },
    });
    const deleted = JSON.parse(unwrap(await tools.execute(tenant, callOf("delete", { id: "x" }))).output) as Echo;
    expect(deleted).toMatchObject({ method: "DELETE", query: { id: ["x"] }, body: null });
  });

  it("follows a redirect on the same origin with the secret, and drops the secret when one leaves it", async () => {
    const tenant = toolsTenant();
    const auth = { type: "bearer" as const, secret: SECRET };
    unwrap(await tools.create(tenant, httpTool({ name: "same", url: serverUrl("/redirect-echo"), auth })));
    unwrap(await tools.create(tenant, httpTool({ name: "cross", url: serverUrl("/redirect-cross"), auth })));
    const same = JSON.parse(unwrap(await tools.execute(tenant, callOf("same", { city: "Oslo" }))).output) as Echo;
    // 302 after a POST continues as a GET, as browsers do.
    expect(same).toMatchObject({ method: "GET", authorization: `Bearer ${SECRET}` });
    const cross = JSON.parse(unwrap(await tools.execute(tenant, callOf("cross", { city: "Oslo" }))).output) as Echo;
    // 307 keeps the method and body; the new origin (localhost, not 127.0.0.1) gets no secret.
    expect(cross).toMatchObject({ method: "POST", body: { city: "Oslo" }, authorization: null });
  });

  it("refuses a redirect to a private address without following it", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool({ name: "sneaky", url: serverUrl("/redirect-private") })));
    const run = unwrap(await tools.execute(tenant, callOf("sneaky", { city: "Oslo" })));
    expect(run.status).toBe("error");
    expect(run.output).toContain("redirected to http://169.254.169.254/latest/meta-data, which was refused");
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "sneaky", status: "error", error: "redirect refused by the address guard" });
  });

  it("re-checks the stored address at every call", async () => {
    const tenant = toolsTenant();
    // A row written before a rule existed (or by hand): the guard still stops it before any request.
    const now = new Date().toISOString();
    await env.TOOLS_DB.prepare(
      `INSERT INTO http_tools (tenant_id, name, description, parameters_json, url, method, headers_json, auth_type,
         auth_header, secret_sealed, timeout_ms, created_at, updated_at)
       VALUES (?, 'legacy', 'old', '{"type":"object"}', 'https://metadata.google.internal/computeMetadata/v1/', 'GET', '{}',
         NULL, NULL, NULL, 1000, ?, ?)`,
    )
      .bind(tenant.tenantId, now, now)
      .run();
    const error = failure(await tools.execute(tenant, callOf("legacy")));
    expect(error).toMatchObject({ code: "forbidden", details: { field: "url" } });
    expect(error.message).toContain("metadata.google.internal");
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "legacy", status: "denied" });
  });

  it("aborts a slow tool at its timeout", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool({ name: "slow", url: serverUrl("/slow"), timeoutMs: 300 })));
    const started = Date.now();
    const run = unwrap(await tools.execute(tenant, callOf("slow", { city: "Oslo" })));
    const elapsed = Date.now() - started;
    expect(run.status).toBe("timeout");
    expect(run.output).toContain("300 ms");
    // The server would answer after 10 s; the call ends near its 300 ms timeout.
    expect(run.durationMs).toBeGreaterThanOrEqual(290);
    expect(run.durationMs).toBeLessThan(1_500);
    expect(elapsed).toBeLessThan(2_000);
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "slow", status: "timeout" });
  });

  it("refuses a response larger than the tenant's maxResponseBytes, streamed or declared", async () => {
    const tenant = toolsTenant({ config: { tools: { maxResponseBytes: 65_536 } } });
    const parameters = { type: "object", properties: {} };
    unwrap(await tools.create(tenant, httpTool({ name: "big", method: "GET", parameters, url: serverUrl("/big") })));
    unwrap(
      await tools.create(
        tenant,
        httpTool({ name: "declared", method: "GET", parameters, url: serverUrl("/big?declared=1") }),
      ),
    );
    for (const name of ["big", "declared"]) {
      const started = Date.now();
      const run = unwrap(await tools.execute(tenant, callOf(name)));
      expect(run.status, name).toBe("error");
      expect(run.output).toContain("more than 65536 bytes");
      expect(run.output).toContain("maxResponseBytes");
      expect(Date.now() - started).toBeLessThan(3_000);
    }
  });

  it("reports a 5xx answer as the tool's error, with what the server said", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool({ name: "broken", url: serverUrl("/fail") })));
    const run = unwrap(await tools.execute(tenant, callOf("broken", { city: "Oslo" })));
    expect(run).toMatchObject({ status: "error", truncated: false });
    expect(run.output).toContain("answered 500");
    expect(run.output).toContain("upstream exploded");
    const [audited] = unwrap(await tools.executions(tenant, { limit: 1 })).items;
    expect(audited).toMatchObject({ status: "error", error: "HTTP 500" });
  });

  it("reports an unreachable host as the tool's error", async () => {
    const tenant = toolsTenant();
    // Port 9 on 127.0.0.1: nothing listens there. (workerd logs the refused connect itself, as an
    // "uncaught exception", even though the fetch rejection is handled.)
    unwrap(
      await tools.create(
        tenant,
        httpTool({ name: "gone", method: "GET", url: "http://127.0.0.1:9/x", timeoutMs: 2_000 }),
      ),
    );
    const run = unwrap(await tools.execute(tenant, callOf("gone", { city: "Oslo" })));
    expect(["error", "timeout"]).toContain(run.status);
    expect(run.output).toMatch(/could not be reached|did not answer/);
  });

  it(`cuts the output handed back at ${TOOL_LIMITS.maxResultChars} characters and says so`, async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool()));
    const city = "x".repeat(30_000);
    const run = unwrap(await tools.execute(tenant, callOf("echo", { city })));
    expect(run.status).toBe("ok");
    expect(run.truncated).toBe(true);
    expect(run.output).toHaveLength(TOOL_LIMITS.maxResultChars);
    expect(run.outputBytes).toBeGreaterThan(30_000);
  });
});
