/**
 * Streamed search answers (the `searchStream` RPC), as SSE events (sse.ts).
 *
 * Citation checking while streaming: the model's tokens go through the same CitationRewriter as a
 * whole answer, so what streams is already checked — an invented `[7]` never reaches the client,
 * and citations are renumbered in order of first citation as they appear. Only a possible citation
 * is held back (an unclosed `[12` or trailing spaces), so tokens still flow as they come.
 * - `sources` (first) lists the retrieved passages, numbered in retrieval order — what the answer
 *   may cite — so a client can show them before the answer.
 * - A `token` whose text introduces a new citation number carries `cites: [{ n, docId, chunkId }]`,
 *   so each `[n]` can be linked the moment it appears.
 * - `done` carries the checked, renumbered sources (the cited ones, in order of first citation),
 *   the same as `search` returns for the same answer.
 * Cached and not-found answers are replayed through the same events (`cached`/`found` in `done`).
 * The model call is noted in `usage` when the stream ends — answered, failed, or cancelled by the
 * client (then with the tokens it produced until then) — and the log is flushed.
 */
import { estimateRequestTokens, estimateTokens, type ResilientAi, withContext } from "@crispy/ai";
import {
  type ModelCallLog,
  type ModelOutcome,
  sourceOf,
  type RetrievedChunk,
  type SearchAnswer,
  type TenantContext,
  type TokenUsage,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { ragCallMeta } from "./ai";
import { answerRequest, citedSources } from "./answer";
import { CitationRewriter } from "./citations";
import { SearchEventStream, type CiteMark } from "./sse";

/** Streams a complete answer (cached, or nothing found): its sources, its words, then done. */
export function replayAnswer(answer: SearchAnswer): ReadableStream<Uint8Array> {
  const sse = new SearchEventStream();
  sse.sources(answer.sources);
  for (const piece of answer.answer.match(/\s*\S+/g) ?? []) sse.token(piece);
  const { found, cached, model, sources } = answer;
  sse.done({ found, cached, model, sources });
  return sse.body;
}

/**
 * Streams the model's answer over `chunks`; `finish` receives the complete checked answer before
 * `done` is sent (the service caches it). The returned promise settles when the stream has ended.
 */
export function streamAnswer(
  ai: ResilientAi,
  tenant: TenantContext,
  query: string,
  chunks: readonly RetrievedChunk[],
  finish: (answer: SearchAnswer) => Promise<void>,
  usage?: ModelCallLog,
): { body: ReadableStream<Uint8Array>; ended: Promise<void> } {
  const controller = new AbortController();
  const sse = new SearchEventStream(() => controller.abort());
  sse.sources(chunks.map((chunk, index) => sourceOf(chunk, index + 1)));

  const ended = (async () => {
    const rewriter = new CitationRewriter(chunks.length);
    let text = "";
    let model: string | null = null;
    let announced = 0;
    const started = Date.now();
    let firstAt: number | null = null;
    let reported: TokenUsage | null = null;
    // Until the answer is done: a stream that ends any other way was cut short or failed.
    let outcome: ModelOutcome = "aborted";
    const emit = (piece: string) => {
      const cited = rewriter.cited();
      const cites: CiteMark[] = cited.slice(announced).map((original, index) => ({
        n: announced + index + 1,
        docId: chunks[original - 1]!.docId,
        chunkId: chunks[original - 1]!.chunkId,
      }));
      announced = cited.length;
      text += piece;
      sse.token(piece, cites);
    };
    const request = { ...answerRequest(tenant, query, chunks), signal: controller.signal };
    try {
      for await (const event of ai.chatStream(request, ragCallMeta(tenant, "search"))) {
        if (event.type === "model") model = event.model;
        else if (event.type === "token") {
          firstAt ??= Date.now();
          emit(rewriter.push(event.text));
        } else if (event.type === "usage") reported = event.usage;
        else if (event.type === "done" && event.finishReason === "error") {
          throw new Error(`${model ?? "the model"} ended its answer with an error`);
        }
      }
      emit(rewriter.end());
      const answer: SearchAnswer = {
        answer: text,
        sources: citedSources(chunks, rewriter.cited()),
        found: true,
        cached: false,
        model: model ?? request.models[0]!,
      };
      if (!sse.open) return;
      await finish(answer);
      sse.done({ found: true, cached: false, model: answer.model, sources: answer.sources });
      outcome = "ok";
    } catch (error) {
      outcome = controller.signal.aborted ? "aborted" : "error";
      if (controller.signal.aborted) return;
      const reason = error instanceof Error ? error.message : String(error);
      log("warn", "rag.answer_failed", { tenantId: tenant.tenantId, requestId: tenant.requestId, reason });
      sse.error("ai_unavailable", reason);
    } finally {
      // A call that streamed nothing is noted at 0 tokens; one cut short, at what it streamed.
      const produced = firstAt !== null;
      const spent = reported as TokenUsage | null;
      usage?.add({
        ts: started,
        model: model ?? request.models[0]!,
        promptTokens:
          spent?.promptTokens ?? (produced ? estimateRequestTokens(withContext(request.messages, request.context)) : 0),
        completionTokens: spent?.completionTokens ?? estimateTokens(text),
        latencyMs: Math.max(0, Date.now() - started),
        ttftMs: firstAt === null ? null : Math.max(0, firstAt - started),
        cacheHit: false,
        outcome,
      });
      usage?.flush();
    }
  })();
  return { body: sse.body, ended };
}
