/**
 * `POST /v1/search` (seed alias `POST /search`): `{ query, topK?, filter?, stream? }` → an answer
 * built from the tenant's documents with inline citations `[n]` that map to the returned sources.
 */
import { SearchBodySchema } from "@crispy/contracts";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { unwrap } from "../http/errors";
import { sseResponse } from "../http/sse";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

export const search = tenantRoute("search", async ({ request, env, tenant }) => {
  requireFeature(tenant.config, "search");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, SearchBodySchema);
  const query = {
    query: body.query,
    ...(body.topK !== undefined ? { topK: body.topK } : {}),
    ...(body.filter ? { filter: body.filter } : {}),
  };
  if (body.stream) return sseResponse(unwrap(await env.RAG.searchStream(tenant, query)).body);
  return unwrap(await env.RAG.search(tenant, query));
});
