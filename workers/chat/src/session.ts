/**
 * ChatSession Durable Object: one per tenant + session, named `${tenantId}:${sessionId}`. Owns the
 * session's messages (messages.ts) and runs the session's turns itself, so that turns on one
 * session are serialised: concurrent turns queue on a promise-chain mutex and run one after
 * another, each seeing the history its predecessors committed; none is lost.
 *
 * A turn: admission (model allowed? its estimate reserved on the gateway's TurnBudget) → its place
 * in the queue → context by token budget (+ retrieved passages for RAG) → the reservation topped
 * up to the prompt it will really send, or the turn refused → model call → commit of user +
 * assistant message in one transaction → directory update (a new session is listed only now) →
 * settle. Failures before streaming are returned as RpcResult values.
 *
 * Invariants:
 * - No half turn: a failed, aborted (client cancel) or superseded (reset, delete) turn commits
 *   nothing; see turn.ts for how its reservation is closed. A new session whose first turn fails
 *   leaves nothing behind: it was never listed, and its object's storage is deleted.
 * - The budget holds for queued turns: the reservation made at admission is only an estimate; the
 *   model is called only once the prompt the turn sends (history committed ahead of it included)
 *   is reserved.
 * - Retention: every turn, reset and commit pushes the expiry to now + `sessions.retentionDays`
 *   and sets the alarm to it; the alarm deletes the whole session (messages, record, directory
 *   entry) once it is due. `sessions.maxMessages` is enforced at commit (oldest dropped first).
 * - This object trusts its caller (the chat entrypoint) to have checked that the session exists
 *   in the directory; if a commit finds it gone (deleted mid-turn), the object wipes itself.
 */
import { DurableObject } from "cloudflare:workers";
import { callMeta, estimateTokens, type ResilientAi } from "@crispy/ai";
import { stubFor } from "@crispy/worker-kit";
import {
  decodeCursor,
  encodeCursor,
  fail,
  ok,
  type ChatTurnInput,
  type ChatTurnReply,
  type MessageRecord,
  type Page,
  type RpcResult,
  type SearchSource,
  type StartedStream,
  type StreamFormat,
  type TenantContext,
  type ToolActivity,
  USED_TOKENS_DETAIL,
} from "@crispy/contracts";
import { log, now, Spans, tracingOn } from "@crispy/observability";
import { aiFromEnv, modelsFor } from "./ai";
import { configOf } from "./config";
import { type KeptGrant, TurnTokens } from "./budget";
import {
  CONTEXT_TOKEN_BUDGET,
  MESSAGE_OVERHEAD_TOKENS,
  fitContext,
  type ContextWindow,
  type CountedMessage,
} from "./context-window";
import { newTurnId } from "./ids";
import { MessageStore, type NewMessage } from "./messages";
import { Mutex } from "./mutex";
import { NOTHING_RETRIEVED, retrieveFor, wantsRag } from "./retrieval";
import { SseStream, type TurnObserver, type TurnSummary } from "./sse";
import { type ServerTools, serverTools } from "./tools";
import { modelCallLog } from "./usage";
import {
  MAX_COMPLETION_TOKENS,
  newMessages,
  runTurn,
  type ModelReply,
  type TurnFailure,
  type TurnOutcome,
  type TurnTools,
} from "./turn";

const DAY_MS = 86_400_000;

/** Which session a turn is for, and whether the entrypoint just minted its id. */
export interface SessionTarget {
  sessionId: string;
  isNew: boolean;
}

interface AdmittedTurn {
  tenant: TenantContext;
  sessionId: string;
  turnId: string;
  input: ChatTurnInput;
  models: string[];
  reservation: TurnTokens;
  controller: AbortController;
  isNew: boolean;
  /** Filled when the turn starts, for a RAG turn. */
  sources?: SearchSource[];
  /** The server-side tools this turn offers the model (null: no tool loop). */
  tools: ServerTools | null;
  /** The tool calls run so far, with their results. */
  activity: ToolActivity[];
}

export class ChatSession extends DurableObject<ChatEnv> {
  readonly #store: MessageStore;
  readonly #lock = new Mutex();
  /** Admitted turns not yet finished (queued or running), so reset/delete can abort them. */
  readonly #turns = new Set<AbortController>();
  readonly #ai: ResilientAi;
  readonly #heartbeatMs: number;

  constructor(ctx: DurableObjectState, env: ChatEnv) {
    super(ctx, env);
    this.#store = new MessageStore(ctx.storage);
    this.#ai = aiFromEnv(env);
    this.#heartbeatMs = configOf(env).HEARTBEAT_MS;
  }

  /** Starts a turn whose answer streams as SSE bytes in `format`. */
  async stream(
    tenant: TenantContext,
    target: SessionTarget,
    input: ChatTurnInput,
    format: StreamFormat,
    grant: KeptGrant,
  ): Promise<RpcResult<StartedStream>> {
    const admitted = await this.#admit(tenant, target, input, grant);
    if (!admitted.ok) return admitted;
    const turn = admitted.value;
    const sse = new SseStream(format, {
      heartbeatMs: this.#heartbeatMs,
      onCancel: () => turn.controller.abort(),
      openai: {
        id: `chatcmpl-${turn.turnId}`,
        created: Math.floor(Date.now() / 1000),
        includeUsage: true,
      },
    });
    void this.#run(turn, sse).then(
      (outcome) => {
        if (outcome.ok) sse.done(summaryOf(turn, outcome.reply));
        else sse.error(outcome.failure.code, outcome.failure.message);
      },
      (error: unknown) => {
        this.#logBug(turn, error);
        sse.error("internal", "the turn failed unexpectedly");
      },
    );
    return ok({ sessionId: turn.sessionId, body: sse.body });
  }

  /** Runs a turn to the end and returns the whole answer. */
  async complete(
    tenant: TenantContext,
    target: SessionTarget,
    input: ChatTurnInput,
    grant: KeptGrant,
  ): Promise<RpcResult<ChatTurnReply>> {
    const admitted = await this.#admit(tenant, target, input, grant);
    if (!admitted.ok) return admitted;
    const turn = admitted.value;
    const outcome = await this.#run(turn, null);
    if (!outcome.ok) {
      return fail(outcome.failure.code, outcome.failure.message, { [USED_TOKENS_DETAIL]: turn.reservation.used });
    }
    const { model, text, usage } = outcome.reply;
    return ok({
      sessionId: turn.sessionId,
      turnId: turn.turnId,
      model,
      reply: text,
      usage,
      ...(turn.sources ? { sources: turn.sources } : {}),
      ...(turn.activity.length ? { tools: turn.activity } : {}),
      ...(outcome.reply.timings ? { timings: outcome.reply.timings } : {}),
    });
  }

  /** Commits an exchange answered elsewhere (an OpenAI-style completion naming this session). */
  async record(
    tenant: TenantContext,
    sessionId: string,
    turnId: string,
    messages: NewMessage[],
  ): Promise<RpcResult<{ messageCount: number }>> {
    return this.#lock.run(async () => {
      const problem = await this.#commit(tenant, sessionId, turnId, messages, false);
      return problem ? fail(problem.code, problem.message) : ok({ messageCount: this.#store.count() });
    });
  }

  /** One page of the session's messages, oldest first. */
  async history(page: { cursor?: string; limit: number }): Promise<RpcResult<Page<MessageRecord>>> {
    let after = 0;
    if (page.cursor !== undefined) {
      const seq = decodeCursor("history", page.cursor);
      if (seq === null) return fail("bad_request", "cursor is not a history cursor");
      after = seq;
    }
    const { items, more } = this.#store.page(after, page.limit);
    return ok({ items, nextCursor: more ? encodeCursor("history", items.at(-1)!.seq) : null });
  }

  /** Deletes every message (aborting turns in flight) but keeps the session. */
  async reset(tenant: TenantContext, sessionId: string): Promise<void> {
    this.#abortTurns({ code: "conflict", message: `session "${sessionId}" was reset during the turn` });
    this.#store.clear();
    await this.#keepAlive(tenant, sessionId);
    await stubFor(this.env.SESSION_DIRECTORY, tenant.tenantId).touch(sessionId, { messageCount: 0, clearTitle: true });
  }

  /** Deletes the whole session's storage (aborting turns in flight); the caller unlisted it. */
  async destroy(): Promise<void> {
    this.#abortTurns({ code: "not_found", message: "the session was deleted during the turn" });
    await this.#wipe();
  }

  /** Tenant erasure (erase.ts): like `destroy`; returns how many messages were deleted. */
  async erase(): Promise<number> {
    this.#abortTurns({ code: "not_found", message: "the tenant's data was erased during the turn" });
    const messages = this.#store.count();
    await this.#wipe();
    return messages;
  }

  /** Retention: deletes the session once its expiry has passed, else re-arms for it. */
  override async alarm(): Promise<void> {
    const session = this.#store.session();
    if (!session) return;
    if (session.expiresAt > Date.now()) {
      await this.ctx.storage.setAlarm(session.expiresAt);
      return;
    }
    this.#abortTurns({ code: "not_found", message: "the session expired" });
    await this.#forget(session.tenantId, session.sessionId);
  }

  async #admit(
    tenant: TenantContext,
    target: SessionTarget,
    input: ChatTurnInput,
    grant: KeptGrant,
  ): Promise<RpcResult<AdmittedTurn>> {
    const models = modelsFor(tenant, input.model);
    if (!models.ok) return models;
    const tools =
      input.tools === false
        ? ok(null)
        : await serverTools(this.env, tenant, input.tools ?? true, {
            explicit: Array.isArray(input.tools),
            caller: "chat",
            sessionId: target.sessionId,
            field: "tools",
          });
    if (!tools.ok) {
      if (target.isNew) await this.#wipe();
      return tools;
    }
    // An estimate from the history as it stands; the turn re-reserves for its real prompt when it runs.
    const estimate = this.#window(input).promptTokens + MAX_COMPLETION_TOKENS;
    const reservation = await TurnTokens.open(grant, tenant, estimate);
    if (!reservation.ok) {
      if (target.isNew) await this.#wipe();
      return reservation;
    }
    try {
      if (!target.isNew) await this.#keepAlive(tenant, target.sessionId);
    } catch (error) {
      await reservation.value.release();
      throw error;
    }
    const controller = new AbortController();
    this.#turns.add(controller);
    return ok({
      tenant,
      sessionId: target.sessionId,
      turnId: newTurnId(),
      input,
      models: models.value,
      reservation: reservation.value,
      controller,
      isNew: target.isNew,
      tools: tools.value,
      activity: [],
    });
  }

  /** Runs an admitted turn in its place in the session's queue; `observer` null: not streamed. */
  async #run(turn: AdmittedTurn, observer: TurnObserver | null): Promise<TurnOutcome> {
    const { tenant, sessionId, turnId, input } = turn;
    // The turn's spans (the reply's `timings`): `retrieve` for a RAG turn, then runTurn's own.
    const spans = tracingOn("chat", this.env) ? new Spans() : null;
    try {
      const outcome = await this.#lock.run(async () => {
        const retrieveStarted = now();
        const retrieved = turn.controller.signal.aborted
          ? NOTHING_RETRIEVED
          : await retrieveFor(this.env, tenant, input);
        if (wantsRag(tenant, input)) {
          spans?.end("retrieve", retrieveStarted);
          turn.sources = retrieved.sources;
          observer?.sources(retrieved.sources);
        }
        return runTurn(
          {
            ai: this.#ai,
            models: turn.models,
            maxTokens: MAX_COMPLETION_TOKENS,
            meta: callMeta(tenant, { turnId, sessionId }),
            signal: turn.controller.signal,
            reservation: turn.reservation,
            usage: modelCallLog(this.env, (work) => this.ctx.waitUntil(work), tenant),
            context: retrieved.context,
            spans,
            ...(turn.tools ? { tools: this.#turnTools(turn, turn.tools) } : {}),
          },
          () => this.#window(input),
          (reply) => this.#commit(tenant, sessionId, turnId, exchangeOf(input, reply), turn.isNew),
          observer,
        );
      });
      // A new session whose first turn did not commit was never listed: its storage goes too.
      if (!outcome.ok && turn.isNew && this.#store.count() === 0) await this.#wipe();
      return outcome;
    } finally {
      this.#turns.delete(turn.controller);
    }
  }

  /** The tool loop of a turn: the tenant's tools, bounded by its `tools.maxSteps`, results recorded. */
  #turnTools(turn: AdmittedTurn, tools: ServerTools): TurnTools {
    return {
      specs: tools.specs,
      maxRounds: turn.tenant.config.tools.maxSteps,
      isServerSide: (name) => tools.names.has(name),
      execute: async (call) => {
        const result = await tools.execute(call);
        const { status, output, truncated, durationMs, executionId } = result;
        turn.activity.push({
          id: call.id,
          name: call.name,
          arguments: call.arguments,
          status,
          output,
          truncated,
          durationMs,
          executionId,
        });
        return result;
      },
    };
  }

  /** The model's view of the session for `input`: recent history that fits the token budget. */
  #window(input: ChatTurnInput): ContextWindow {
    const system: CountedMessage[] = input.system
      ? [{ role: "system", content: input.system, tokens: estimateTokens(input.system) }]
      : [];
    const question: CountedMessage = { role: "user", content: input.message, tokens: estimateTokens(input.message) };
    let used = [...system, question].reduce((sum, m) => sum + m.tokens + MESSAGE_OVERHEAD_TOKENS, 0);
    const history = this.#store.recent((message) => {
      used += message.tokens + MESSAGE_OVERHEAD_TOKENS;
      return used <= CONTEXT_TOKEN_BUDGET;
    });
    return fitContext([...system, ...history.reverse(), question], CONTEXT_TOKEN_BUDGET);
  }

  /**
   * Commits a turn's messages (synchronously, in one transaction, before any await), then
   * publishes the new count to the directory. If the directory no longer lists the session, it
   * was deleted mid-turn: the object wipes itself and reports not_found.
   */
  async #commit(
    tenant: TenantContext,
    sessionId: string,
    turnId: string,
    messages: NewMessage[],
    isNew: boolean,
  ): Promise<TurnFailure | null> {
    const { maxMessages, retentionDays } = tenant.config.sessions;
    const expiresAt = Date.now() + retentionDays * DAY_MS;
    this.#store.commitTurn(turnId, messages, maxMessages, { tenantId: tenant.tenantId, sessionId, expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
    const title = messages.find((m) => m.role === "user")?.content;
    const directory = stubFor(this.env.SESSION_DIRECTORY, tenant.tenantId);
    const update = { messageCount: this.#store.count(), ...(title ? { title } : {}) };
    // A new session is listed from its first committed turn on; before, nothing shows it.
    let listed = true;
    if (isNew) await directory.create(sessionId, update);
    else listed = await directory.touch(sessionId, update);
    if (listed) return null;
    await this.#wipe();
    return { code: "not_found", message: `session "${sessionId}" was deleted during the turn` };
  }

  /** Pushes the session's expiry to now + retentionDays and arms the alarm for it. */
  async #keepAlive(tenant: TenantContext, sessionId: string): Promise<void> {
    const expiresAt = Date.now() + tenant.config.sessions.retentionDays * DAY_MS;
    this.#store.saveSession({ tenantId: tenant.tenantId, sessionId, expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
  }

  #abortTurns(reason: TurnFailure): void {
    for (const controller of this.#turns) controller.abort(reason);
  }

  /** Unlists the session, then deletes its storage. */
  async #forget(tenantId: string, sessionId: string): Promise<void> {
    await stubFor(this.env.SESSION_DIRECTORY, tenantId).remove(sessionId);
    await this.#wipe();
  }

  async #wipe(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.#store.wipe();
  }

  #logBug(turn: AdmittedTurn, error: unknown): void {
    log("error", "chat.turn_bug", {
      tenantId: turn.tenant.tenantId,
      requestId: turn.tenant.requestId,
      turnId: turn.turnId,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
}

/** The turn's messages: the user's, then every message the turn added (tool calls and results too). */
function exchangeOf(input: ChatTurnInput, reply: ModelReply): NewMessage[] {
  return [{ role: "user", content: input.message, tokens: estimateTokens(input.message) }, ...newMessages(reply)];
}

function summaryOf(turn: AdmittedTurn, reply: ModelReply): TurnSummary {
  return {
    turnId: turn.turnId,
    sessionId: turn.sessionId,
    model: reply.model,
    usage: reply.usage,
    finishReason: reply.finishReason,
    ...(turn.sources ? { sources: turn.sources } : {}),
  };
}
