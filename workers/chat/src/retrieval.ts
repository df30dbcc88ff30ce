/**
 * RAG for chat turns: when a turn asks for it (`rag: true`, or the tenant's
 * `features.ragByDefault`), the rag worker retrieves the tenant's most relevant chunks for the
 * user's message; they become the model's context passages, cited as `[n]` in the answer, and
 * are reported as the turn's sources (`n` = position in the context). Retrieval never blocks a
 * turn: if the rag worker fails, the turn goes on without sources and the failure is logged.
 */
import type { ContextPassage } from "@crispy/ai";
import { sourceOf, type ChatTurnInput, type SearchSource, type TenantContext } from "@crispy/contracts";
import { log } from "@crispy/observability";

export interface Retrieved {
  context: ContextPassage[];
  sources: SearchSource[];
}

export const NOTHING_RETRIEVED: Retrieved = { context: [], sources: [] };

export function wantsRag(tenant: TenantContext, input: ChatTurnInput): boolean {
  return input.rag ?? tenant.config.features.ragByDefault;
}

/** The passages and sources for a turn's message; empty when RAG is off or retrieval failed. */
export async function retrieveFor(env: ChatEnv, tenant: TenantContext, input: ChatTurnInput): Promise<Retrieved> {
  if (!wantsRag(tenant, input)) return NOTHING_RETRIEVED;
  try {
    const result = await env.RAG.retrieve(tenant, { query: input.message });
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    const chunks = result.value;
    return {
      context: chunks.map((chunk) => ({ id: chunk.chunkId, title: chunk.title, text: chunk.text })),
      sources: chunks.map((chunk, index) => sourceOf(chunk, index + 1)),
    };
  } catch (error) {
    log("warn", "chat.retrieval_failed", {
      tenantId: tenant.tenantId,
      requestId: tenant.requestId,
      reason: (error as Error).message,
    });
    return NOTHING_RETRIEVED;
  }
}
