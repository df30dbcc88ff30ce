/**
 * The entrypoint as callers meet it: the kit's ping and contract, the RPC surface the gateway and
 * chat call, and hostile arguments in any position answered with values, never "internal".
 */
import { exports } from "cloudflare:workers";
import type { RpcResult } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { toolsTenant, unwrap } from "./tenant";

const tools = exports.default;

const HOSTILE: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1.5,
  Number.NaN,
  "",
  "x".repeat(100_000),
  [],
  {},
  true,
  { length: -1, toString: 1 },
  { name: "echo", inputJson: "{}", caller: "api", toString: 1 },
  { name: { toString: 1 }, inputJson: { toString: 1 }, caller: "chat", limit: "x", cursor: 5, tool: 7 },
];

describe("the tools entrypoint", () => {
  it("answers ping and names its RPC surface", async () => {
    const tenant = toolsTenant();
    expect(unwrap(await tools.ping(tenant))).toEqual({
      worker: "tools",
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
    });
    expect(await tools.contract()).toEqual({
      worker: "tools",
      version: 1,
      deprecated: [],
      methods: [
        "create",
        "createMcpServer",
        "eraseTenant",
        "execute",
        "executions",
        "get",
        "list",
        "listMcpServers",
        "refreshMcpServer",
        "remove",
        "removeMcpServer",
        "replace",
      ],
    });
  });

  it("answers hostile arguments to every method with a value, never an exception", async () => {
    const tenant = toolsTenant();
    const stub = tools as unknown as Record<string, (...args: unknown[]) => Promise<RpcResult<unknown>>>;
    const { methods } = await tools.contract();
    const problems: string[] = [];
    for (const method of methods) {
      for (let position = 1; position <= 3; position++) {
        for (const value of HOSTILE) {
          const args: unknown[] = [tenant, undefined, undefined, undefined];
          args[position] = value;
          const result = await stub[method]!(...args);
          const label = `${method} with ${JSON.stringify(value)?.slice(0, 30)} at ${position}`;
          if (typeof result?.ok !== "boolean") problems.push(`${label}: not an RpcResult`);
          else if (!result.ok && result.error.code === "internal") problems.push(`${label}: ${result.error.message}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
