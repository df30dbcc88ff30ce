/**
 * `embed`: the tenant's embeddings model over texts, for `POST /v1/embeddings`. The model is the
 * tenant's `ai.embeddings.model` (anything else is "forbidden", naming the allowed one); the width
 * is the request's `dimensions`, else the tenant's configured one, and a model that cannot produce
 * it is a bad_request naming `dimensions` (the AI layer's "unsupported"). Texts go to the model
 * in batches of EMBED_BATCH_SIZE, at most EMBED_CONCURRENCY at a time, and come back in order.
 * Each batch is one model call, noted in `usage` (the caller flushes it).
 */
import { AiError, callMeta, type ResilientAi } from "@crispy/ai";
import {
  EMBEDDING_LIMITS,
  fail,
  ok,
  type EmbedInput,
  type Embedded,
  type ModelCallLog,
  type RpcError,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { log } from "@crispy/observability";

export const EMBED_BATCH_SIZE = 32;
const EMBED_CONCURRENCY = 4;

export async function embedTexts(
  ai: ResilientAi,
  tenant: TenantContext,
  input: EmbedInput,
  usage?: ModelCallLog,
): Promise<RpcResult<Embedded>> {
  const problem = problemWith(input);
  if (problem) return problem;
  const configured = tenant.config.ai.embeddings;
  if (input.model !== configured.model) {
    return fail(
      "forbidden",
      `model "${input.model}" is not the embeddings model of tenant "${tenant.tenantId}"; use "${configured.model}"`,
      { field: "model", model: input.model, allowed: [configured.model] },
    );
  }
  const dimensions = input.dimensions ?? configured.dimensions;
  const meta = callMeta(tenant, { worker: "rag", operation: "embed", ...(input.user ? { user: input.user } : {}) });
  const batches: string[][] = [];
  for (let start = 0; start < input.texts.length; start += EMBED_BATCH_SIZE) {
    batches.push(input.texts.slice(start, start + EMBED_BATCH_SIZE));
  }
  const results: Array<{ vectors: number[][]; model: string; promptTokens: number }> = new Array(batches.length);
  try {
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const index = next++;
        const started = Date.now();
        const note = (model: string, promptTokens: number, outcome: "ok" | "error") =>
          usage?.add({
            ts: started,
            model,
            promptTokens,
            completionTokens: 0,
            latencyMs: Math.max(0, Date.now() - started),
            ttftMs: null,
            cacheHit: false,
            outcome,
          });
        const result = await ai
          .embed({ model: configured.model, texts: batches[index]!, dimensions }, meta)
          .catch((error: unknown) => {
            note(configured.model, 0, "error");
            throw error;
          });
        note(result.model, result.usage.promptTokens, "ok");
        results[index] = { vectors: result.vectors, model: result.model, promptTokens: result.usage.promptTokens };
      }
    };
    await Promise.all(Array.from({ length: Math.min(EMBED_CONCURRENCY, batches.length) }, worker));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof AiError && error.code === "unsupported") {
      return fail("bad_request", reason, { field: "dimensions" });
    }
    log("warn", "rag.embed_failed", { tenantId: tenant.tenantId, requestId: tenant.requestId, reason });
    return fail("ai_unavailable", `could not embed the input: ${reason}`);
  }
  return ok({
    vectors: results.flatMap((result) => result.vectors),
    model: results[0]?.model ?? configured.model,
    promptTokens: results.reduce((sum, result) => sum + result.promptTokens, 0),
  });
}

/** The shape and limits the gateway checked, checked again (RPC callers are not only the gateway). */
function problemWith(input: EmbedInput): { ok: false; error: RpcError } | null {
  const texts = input?.texts;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > EMBEDDING_LIMITS.maxInputs) {
    return fail("bad_request", `input must hold 1-${EMBEDDING_LIMITS.maxInputs} texts`, { field: "input" });
  }
  let total = 0;
  for (const [index, text] of texts.entries()) {
    if (typeof text !== "string" || text.length === 0 || text.length > EMBEDDING_LIMITS.maxInputChars) {
      return fail("bad_request", `input[${index}] must be a string of 1-${EMBEDDING_LIMITS.maxInputChars} characters`, {
        field: `input.${index}`,
      });
    }
    total += text.length;
  }
  if (total > EMBEDDING_LIMITS.maxTotalChars) {
    return fail("bad_request", `all inputs together must be at most ${EMBEDDING_LIMITS.maxTotalChars} characters`, {
      field: "input",
    });
  }
  const dimensions = input.dimensions;
  if (
    dimensions !== undefined &&
    (!Number.isInteger(dimensions) ||
      dimensions < EMBEDDING_LIMITS.minDimensions ||
      dimensions > EMBEDDING_LIMITS.maxDimensions)
  ) {
    return fail("bad_request", `dimensions must be an integer in 1..${EMBEDDING_LIMITS.maxDimensions}`, {
      field: "dimensions",
    });
  }
  if (typeof input.model !== "string") return fail("bad_request", "model must be a string", { field: "model" });
  return null;
}
