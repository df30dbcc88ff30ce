/**
 * Who may do what, checked inside the worker too (defence in depth; the gateway checks scopes
 * before it calls): tools must be on for the tenant (`features.tools`, off by default), the key
 * needs the "tools" scope for anything and "admin" as well to change the registry, and a key with
 * a tool allow-list may neither see nor call nor change a tool outside it.
 */
import { fail, type RpcError, type TenantContext } from "@crispy/contracts";

type Refusal = { ok: false; error: RpcError };

/** Why this request may not use tools at all, or null. */
export function toolsRefusal(tenant: TenantContext): Refusal | null {
  if (tenant.config.features.tools !== true) {
    return fail("forbidden", `tools are disabled for tenant "${tenant.tenantId}" (features.tools is false)`);
  }
  if (!Array.isArray(tenant.scopes) || !tenant.scopes.includes("tools")) {
    return fail("forbidden", 'this API key lacks the "tools" scope');
  }
  return null;
}

/** Why this request may not create, replace or remove tools, or null. */
export function adminRefusal(tenant: TenantContext): Refusal | null {
  const refusal = toolsRefusal(tenant);
  if (refusal) return refusal;
  if (!tenant.scopes.includes("admin")) {
    return fail("forbidden", 'this API key lacks the "admin" scope, which changing tools needs');
  }
  return null;
}

/** Whether the key's allow-list (if it has one) lets it see and call `name`. */
export function nameAllowed(tenant: TenantContext, name: string): boolean {
  return !Array.isArray(tenant.toolAllowList) || tenant.toolAllowList.includes(name);
}

export function outsideAllowList(name: string): Refusal {
  return fail("forbidden", `tool "${name.slice(0, 64)}" is not in this API key's tool allow-list`, {
    tool: name.slice(0, 64),
  });
}

/**
 * Why this request may not register, remove or refresh remote MCP servers, or null: "admin" as
 * for HTTP tools, and no tool allow-list — a server's tools are not known before it is listed,
 * so a key limited to some tools cannot be trusted with a source of new ones.
 */
export function mcpAdminRefusal(tenant: TenantContext): Refusal | null {
  const refusal = adminRefusal(tenant);
  if (refusal) return refusal;
  if (Array.isArray(tenant.toolAllowList)) {
    return fail("forbidden", "this API key has a tool allow-list, so it may not change the tenant's MCP servers");
  }
  return null;
}
