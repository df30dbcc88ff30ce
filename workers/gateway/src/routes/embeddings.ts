/**
 * `POST /v1/embeddings` in OpenAI's format (scope `search`, feature `search`): the tenant's
 * embeddings model over one text or many, through the rag worker's AI layer (Workers AI through AI
 * Gateway in production, the local hash embedder offline). The inputs' estimated tokens are
 * reserved against the tenant's budget first (over budget: 429 before any model call) and the
 * reservation is settled with the model's own count. `encoding_format: "base64"` (what the
 * official openai client asks for by default) is each vector's little-endian float32 bytes.
 */
import { estimateTokens } from "@crispy/ai";
import { EmbeddingsBodySchema } from "@crispy/contracts";
import { routeBudget, settled } from "../admission/budget";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { unwrap } from "../http/errors";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

export const embeddings = tenantRoute("search", async ({ request, env, ctx, tenant }) => {
  requireFeature(tenant.config, "search");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, EmbeddingsBodySchema);
  const estimate = body.input.reduce((sum, text) => sum + estimateTokens(text), 0);
  const budget = await routeBudget(env, ctx, tenant, "caller", estimate);
  const call = env.RAG.embed(tenant, {
    texts: body.input,
    model: body.model,
    ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
    ...(body.user !== undefined ? { user: body.user } : {}),
  });
  const embedded = unwrap(await settled(budget, call, (value) => value.promptTokens));
  const encode = body.encoding_format === "base64" ? float32Base64 : (vector: number[]) => vector;
  return {
    object: "list",
    data: embedded.vectors.map((vector, index) => ({ object: "embedding", index, embedding: encode(vector) })),
    model: embedded.model,
    usage: { prompt_tokens: embedded.promptTokens, total_tokens: embedded.promptTokens },
  };
});

/** A vector as OpenAI's base64 encoding: its float32 values, little-endian, base64. */
export function float32Base64(vector: number[]): string {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (const [index, value] of vector.entries()) view.setFloat32(index * 4, value, true);
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}
