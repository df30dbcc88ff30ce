/** `GET /v1/tenant` (who am I) and `GET /v1/mesh` (can my tenant reach every internal worker). */
import type { TenantSummary } from "@crispy/contracts";
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

export const meshStatus = tenantRoute(undefined, async ({ env, tenant }) => {
  const services = { chat: env.CHAT, rag: env.RAG, ingest: env.INGEST, tools: env.TOOLS } as const;
  const checks = await Promise.all(
    Object.entries(services).map(async ([name, service]) => {
      const started = performance.now();
      try {
        const result = await service.ping(tenant);
        return {
          name,
          ok: result.ok && result.value.tenantId === tenant.tenantId,
          ms: Math.round((performance.now() - started) * 100) / 100,
        };
      } catch (error) {
        return { name, ok: false, error: (error as Error).message };
      }
    }),
  );
  return { tenantId: tenant.tenantId, workers: checks, ok: checks.every((check) => check.ok) };
});
