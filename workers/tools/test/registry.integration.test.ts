import { env, exports } from "cloudflare:workers";
import { BUILTIN_TOOLS, type RpcResult, TOOL_LIMITS } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { asKey, callOf, failure, httpTool, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;
const SECRET = "s3cret-registry-token-9f2c";

describe("the registry", () => {
  it("lists the offered built-ins in their order, then HTTP tools by name", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool({ name: "zeta" })));
    unwrap(await tools.create(tenant, httpTool({ name: "Alpha" })));
    unwrap(await tools.create(tenant, httpTool({ name: "alpha" })));
    const listed = unwrap(await tools.list(tenant));
    expect(listed.map((tool) => tool.name)).toEqual([...BUILTIN_TOOLS, "Alpha", "alpha", "zeta"]);
    expect(listed.find((tool) => tool.name === "search_documents")).toMatchObject({ kind: "builtin" });
    const search = JSON.parse(listed[0]!.parametersJson) as Record<string, unknown>;
    expect(search).toMatchObject({ type: "object", required: ["query"] });
    expect(listed.find((tool) => tool.name === "zeta")).toMatchObject({
      kind: "http",
      http: { method: "POST", auth: null, timeoutMs: 5_000 },
    });

    const fewer = toolsTenant({ config: { tools: { builtins: ["current_time", "file_read"] } } });
    expect(unwrap(await tools.list(fewer)).map((tool) => tool.name)).toEqual(["file_read", "current_time"]);
    expect(failure(await tools.get(fewer, "search_documents")).code).toBe("not_found");
    expect(failure(await tools.execute(fewer, callOf("file_list"))).code).toBe("not_found");
  });

  it("applies the key's allow-list to list, get, execute and changes", async () => {
    const tenant = toolsTenant();
    unwrap(await tools.create(tenant, httpTool({ name: "zeta" })));
    unwrap(await tools.create(tenant, httpTool({ name: "alpha" })));
    const narrow = asKey(tenant, ["tools", "admin"], ["zeta", "current_time", "not-defined"]);
    expect(unwrap(await tools.list(narrow)).map((tool) => tool.name)).toEqual(["current_time", "zeta"]);
    for (const result of [
      await tools.get(narrow, "alpha"),
      await tools.execute(narrow, callOf("alpha", { city: "Oslo" })),
      await tools.execute(narrow, callOf("file_list")),
      await tools.remove(narrow, "alpha"),
      await tools.replace(narrow, "alpha", httpTool({ name: "alpha" })),
      await tools.create(narrow, httpTool({ name: "beta" })),
    ] as RpcResult<unknown>[]) {
      const error = failure(result);
      expect(error.code).toBe("forbidden");
      expect(error.message).toMatch(/"(alpha|file_list|beta)" is not in this API key's tool allow-list/);
    }
    expect(unwrap(await tools.get(narrow, "zeta")).name).toBe("zeta");
    expect(failure(await tools.get(narrow, "not-defined")).code).toBe("not_found");
    expect(unwrap(await tools.execute(narrow, callOf("zeta", { city: "Oslo" }))).status).toBe("ok");
  });

  it("creates (conflict on a taken name), replaces (upsert), and removes", async () => {
    const tenant = toolsTenant();
    const created = unwrap(await tools.create(tenant, httpTool()));
    expect(created).toMatchObject({ name: "echo", kind: "http", description: "Echoes what it receives" });
    expect(failure(await tools.create(tenant, httpTool())).code).toBe("conflict");

    const mismatch = failure(await tools.replace(tenant, "echo", httpTool({ name: "other" })));
    expect(mismatch).toMatchObject({ code: "bad_request", details: { field: "name" } });

    const replaced = unwrap(await tools.replace(tenant, "echo", httpTool({ description: "v2", method: "GET" })));
    expect(replaced.created).toBe(false);
    expect(replaced.tool).toMatchObject({ description: "v2", http: { method: "GET" }, createdAt: created.createdAt });
    expect(unwrap(await tools.get(tenant, "echo")).description).toBe("v2");

    const fresh = unwrap(await tools.replace(tenant, "fresh", httpTool({ name: "fresh" })));
    expect(fresh.created).toBe(true);

    expect(unwrap(await tools.remove(tenant, "echo"))).toEqual({ deleted: true });
    expect(failure(await tools.get(tenant, "echo")).code).toBe("not_found");
    expect(failure(await tools.remove(tenant, "echo")).code).toBe("not_found");
    expect(failure(await tools.execute(tenant, callOf("echo", { city: "x" }))).code).toBe("not_found");
    expect(failure(await tools.remove(tenant, "current_time")).code).toBe("bad_request");
    expect(failure(await tools.create(tenant, httpTool({ name: "current_time" }))).code).toBe("bad_request");
  });

  it("refuses a tool aimed at a private, loopback, link-local or metadata address when it is created", async () => {
    const tenant = toolsTenant();
    for (const url of [
      "https://10.0.0.8/x",
      "https://192.168.0.10/",
      "https://169.254.169.254/latest/meta-data",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://[::1]/x",
      "https://[::ffff:10.0.0.1]/",
      "https://167772161/", // 10.0.0.1 in decimal
      "https://0xa9fea9fe/", // 169.254.169.254 in hex
      "http://127.0.0.2/",
      "http://api.example.com/",
      "https://user:pw@api.example.com/",
    ]) {
      const error = failure(await tools.create(tenant, httpTool({ name: "private", url })));
      expect(error, url).toMatchObject({ code: "bad_request", details: { field: "url" } });
      expect(error.message, url).toMatch(/^url: /);
      expect(failure(await tools.replace(tenant, "private", httpTool({ name: "private", url }))).code).toBe(
        "bad_request",
      );
    }
    expect(unwrap(await tools.list(tenant)).some((tool) => tool.name === "private")).toBe(false);
  });

  it("refuses a parameters schema the validator cannot use, naming parameters", async () => {
    const tenant = toolsTenant();
    for (const parameters of [
      { type: "object", properties: { a: { type: "strnig" } } },
      { type: "object", properties: { a: { $ref: "https://schemas.example/a.json" } } },
      { type: "object", properties: { a: { type: "string", pattern: "([" } } },
    ]) {
      const error = failure(await tools.create(tenant, httpTool({ parameters })));
      expect(error).toMatchObject({ code: "bad_request", details: { field: "parameters" } });
      expect(error.message).toMatch(/^parameters: /);
    }
  });

  it("keeps the secret out of every answer and out of D1, and sends it to the tool", async () => {
    const tenant = toolsTenant();
    const answers: unknown[] = [];
    answers.push(unwrap(await tools.create(tenant, httpTool({ auth: { type: "bearer", secret: SECRET } }))));
    answers.push(
      unwrap(
        await tools.create(
          tenant,
          httpTool({ name: "keyed", auth: { type: "header", header: "X-Api-Key", secret: `${SECRET}-h` } }),
        ),
      ),
    );
    answers.push(unwrap(await tools.list(tenant)));
    answers.push(unwrap(await tools.get(tenant, "echo")));
    answers.push(
      unwrap(
        await tools.replace(
          tenant,
          "keyed",
          httpTool({ name: "keyed", auth: { type: "header", header: "X-Api-Key", secret: `${SECRET}-h` } }),
        ),
      ),
    );
    answers.push(unwrap(await tools.executions(tenant, { limit: 100 })));
    expect(JSON.stringify(answers)).not.toContain(SECRET);
    expect(answers[3]).toMatchObject({ http: { auth: { type: "bearer", header: null } } });

    const { results } = await env.TOOLS_DB.prepare("SELECT * FROM http_tools WHERE tenant_id = ?")
      .bind(tenant.tenantId)
      .all<Record<string, unknown>>();
    expect(results).toHaveLength(2);
    expect(JSON.stringify(results)).not.toContain(SECRET);
    expect(results.every((row) => String(row.secret_sealed).startsWith("v1."))).toBe(true);

    const bearer = JSON.parse(unwrap(await tools.execute(tenant, callOf("echo", { city: "Oslo" }))).output);
    expect(bearer.authorization).toBe(`Bearer ${SECRET}`);
    const keyed = JSON.parse(unwrap(await tools.execute(tenant, callOf("keyed", { city: "Oslo" }))).output);
    expect(keyed).toMatchObject({ apiKey: `${SECRET}-h`, authorization: null });

    // A PUT replaces the whole definition: no auth in it, no secret kept.
    unwrap(await tools.replace(tenant, "echo", httpTool()));
    const row = await env.TOOLS_DB.prepare("SELECT secret_sealed FROM http_tools WHERE tenant_id = ? AND name = ?")
      .bind(tenant.tenantId, "echo")
      .first<{ secret_sealed: string | null }>();
    expect(row?.secret_sealed).toBeNull();
    const plain = JSON.parse(unwrap(await tools.execute(tenant, callOf("echo", { city: "Oslo" }))).output);
    expect(plain.authorization).toBeNull();
  });

  it("a sealed secret moved to another tenant's tool does not decrypt there", async () => {
    const a = toolsTenant();
    const b = toolsTenant();
    unwrap(await tools.create(a, httpTool({ auth: { type: "bearer", secret: SECRET } })));
    unwrap(await tools.create(b, httpTool({ auth: { type: "bearer", secret: "b-own-secret" } })));
    await env.TOOLS_DB.prepare(
      "UPDATE http_tools SET secret_sealed = (SELECT secret_sealed FROM http_tools WHERE tenant_id = ? AND name = 'echo') WHERE tenant_id = ? AND name = 'echo'",
    )
      .bind(a.tenantId, b.tenantId)
      .run();
    const error = failure(await tools.execute(b, callOf("echo", { city: "Oslo" })));
    expect(error.code).toBe("internal");
    expect(error.message).toContain("cannot be decrypted");
    expect(error.message).not.toContain(SECRET);
    const [audited] = unwrap(await tools.executions(b, { limit: 1 })).items;
    expect(audited).toMatchObject({ tool: "echo", status: "error" });
  });

  it(`allows at most ${TOOL_LIMITS.maxHttpTools} HTTP tools per tenant`, async () => {
    const tenant = toolsTenant();
    for (let i = 0; i < TOOL_LIMITS.maxHttpTools; i++) {
      unwrap(await tools.create(tenant, httpTool({ name: `tool-${i}` })));
    }
    const error = failure(await tools.create(tenant, httpTool({ name: "one-too-many" })));
    expect(error.code).toBe("conflict");
    expect(error.message).toContain(`${TOOL_LIMITS.maxHttpTools} HTTP tools`);
    expect(failure(await tools.replace(tenant, "one-too-many", httpTool({ name: "one-too-many" }))).code).toBe(
      "conflict",
    );
    // Replacing an existing one is still fine, and another tenant is unaffected.
    expect(unwrap(await tools.replace(tenant, "tool-0", httpTool({ name: "tool-0" }))).created).toBe(false);
    unwrap(await tools.create(toolsTenant(), httpTool({ name: "one-too-many" })));
  });
});

describe("deny by default", () => {
  it("refuses everything when the tenant has tools off, naming features.tools and the tenant", async () => {
    const tenant = toolsTenant({ config: { features: { tools: false } } });
    for (const result of [
      await tools.list(tenant),
      await tools.get(tenant, "current_time"),
      await tools.create(tenant, httpTool()),
      await tools.replace(tenant, "echo", httpTool()),
      await tools.remove(tenant, "echo"),
      await tools.execute(tenant, callOf("current_time")),
      await tools.executions(tenant, { limit: 10 }),
    ] as RpcResult<unknown>[]) {
      const error = failure(result);
      expect(error.code).toBe("forbidden");
      expect(error.message).toContain("features.tools");
      expect(error.message).toContain(tenant.tenantId);
    }
  });

  it('refuses a key without the "tools" scope, and changes by a key without "admin"', async () => {
    const tenant = toolsTenant();
    const chatOnly = asKey(tenant, ["chat", "admin"]);
    for (const result of [
      await tools.list(chatOnly),
      await tools.execute(chatOnly, callOf("current_time")),
      await tools.executions(chatOnly, { limit: 10 }),
      await tools.create(chatOnly, httpTool()),
    ] as RpcResult<unknown>[]) {
      expect(failure(result)).toMatchObject({ code: "forbidden", message: expect.stringContaining('"tools" scope') });
    }
    const user = asKey(tenant, ["tools"]);
    for (const result of [
      await tools.create(user, httpTool()),
      await tools.replace(user, "echo", httpTool()),
      await tools.remove(user, "echo"),
    ] as RpcResult<unknown>[]) {
      expect(failure(result)).toMatchObject({ code: "forbidden", message: expect.stringContaining('"admin" scope') });
    }
    expect(unwrap(await tools.list(user)).length).toBe(BUILTIN_TOOLS.length);
    expect(unwrap(await tools.execute(user, callOf("current_time"))).status).toBe("ok");
  });
});
