/**
 * Single-tenant gateways (`TENANT_ID`, set by `pnpm run deploy --tenant <id>`, docs/deploy.md): a
 * gateway pinned to one tenant serves that tenant only. Every other tenant is unknown to it —
 * named by header, host, API key or an operator route, it is `404 tenant_unknown` — and a request
 * that names no tenant is the pinned tenant's.
 *
 * The pin is held per request (app.ts runs each one inside `servingOnly`), so every tenant lookup
 * (authenticate.ts `tenantById`) honours it without each caller passing the env along.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const pinned = new AsyncLocalStorage<string | undefined>();

/** Runs `handle` with `tenantId` as the only tenant served (undefined: every tenant). */
export function servingOnly<T>(tenantId: string | undefined, handle: () => T): T {
  return pinned.run(tenantId, handle);
}

/** The tenant the gateway is pinned to for the current request, if any. */
export function pinnedTenantId(): string | undefined {
  return pinned.getStore();
}
