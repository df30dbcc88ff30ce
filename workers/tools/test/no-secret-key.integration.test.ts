/** Run by the "tools-no-key" project: the worker without a TOOLS_SECRET_KEY (vitest.config.ts). */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callOf, failure, httpTool, toolsTenant, unwrap } from "./tenant";

const tools = exports.default;

describe("without TOOLS_SECRET_KEY", () => {
  it("fails only what needs the key, naming the variable", async () => {
    const tenant = toolsTenant();
    const error = failure(await tools.create(tenant, httpTool({ auth: { type: "bearer", secret: "s3cret" } })));
    expect(error.code).toBe("internal");
    expect(error.message).toContain("TOOLS_SECRET_KEY is not set");
    expect(failure(await tools.get(tenant, "echo")).code).toBe("not_found");

    // Tools without secrets, and built-ins, work as ever.
    unwrap(await tools.create(tenant, httpTool({ name: "open" })));
    expect(unwrap(await tools.execute(tenant, callOf("open", { city: "Oslo" }))).status).toBe("ok");
    expect(unwrap(await tools.execute(tenant, callOf("current_time"))).status).toBe("ok");
    expect(unwrap(await tools.list(tenant)).map((tool) => tool.name)).toContain("open");

    // A tool stored with a secret (under a key since removed) cannot run, and says why.
    await env.TOOLS_DB.prepare(
      "UPDATE http_tools SET auth_type = 'bearer', secret_sealed = ? WHERE tenant_id = ? AND name = 'open'",
    )
      .bind("v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", tenant.tenantId)
      .run();
    const refused = failure(await tools.execute(tenant, callOf("open", { city: "Oslo" })));
    expect(refused).toMatchObject({ code: "internal", message: expect.stringContaining("TOOLS_SECRET_KEY") });
    expect(unwrap(await tools.executions(tenant, { limit: 1 })).items[0]).toMatchObject({
      tool: "open",
      status: "error",
    });
  });
});
