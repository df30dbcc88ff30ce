/** `GET /v1/tenant` (who am I) and `GET /v1/mesh` (can my tenant reach every internal worker). */
import type { RpcResult, TenantContext, TenantSummary } from "@crispy/contracts";
import { errorMessage, type PingReply } from "@crispy/worker-kit";
import { INTERNAL_WORKERS } from "../mesh";
import { tenantRoute } from "./handler";

export const tenantSummary = tenantRoute(undefined, ({ state }): TenantSummary => {
  const { tenant, key } = state;
  return {
    id: tenant.id,
    name: tenant.name,
    key: { id: key.id, scopes: key.scopes, expiresAt: key.expiresAt },
    features: tenant.features,
    models: { chat: tenant.ai.chat.default, allowed: tenant.ai.chat.allowed, embeddings: tenant.ai.embeddings.model },
    rateLimits: tenant.rateLimits,
    budgets: tenant.budgets,
  };
});

/** What the gateway needs of every internal worker's stub: the kit's ping. */
interface Pingable {
  ping(tenant: TenantContext): Promise<RpcResult<PingReply>>;
}

export const meshStatus = tenantRoute(undefined, async ({ env, tenant }) => {
  const bound = env as unknown as Record<string, Pingable | undefined>;
  const checks = await Promise.all(
    INTERNAL_WORKERS.map(async ({ name, binding }) => {
      const service = bound[binding];
      if (!service) return { name, ok: false, error: `the gateway has no ${binding} binding; run pnpm types` };
      const started = performance.now();
      try {
        const result = await service.ping(tenant);
        const ms = Math.round((performance.now() - started) * 100) / 100;
        return { name, ok: result.ok && result.value.tenantId === tenant.tenantId, ms };
      } catch (error) {
        return { name, ok: false, error: errorMessage(error) };
      }
    }),
  );
  return { tenantId: tenant.tenantId, workers: checks, ok: checks.every((check) => check.ok) };
});
