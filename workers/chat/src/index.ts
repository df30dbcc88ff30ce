/**
 * crispy-chat: chat turns and sessions, over RPC only (no public routes; the gateway calls it with
 * the resolved TenantContext first). Exports the entrypoint and its two Durable Objects:
 * - ChatSession `${tenantId}:${sessionId}` — a session's messages; runs its turns one at a time.
 * - SessionDirectory `${tenantId}` — the tenant's sessions; the source of truth for existence.
 *
 * Invariants:
 * - A session id the tenant's directory does not hold (unknown, deleted, expired, or another
 *   tenant's) is "not_found" for every method, indistinguishable from missing.
 * - Expected failures are RpcResult values ("not_found", "forbidden", "budget_exceeded",
 *   "ai_unavailable", "bad_request"); a streamed turn that fails after streaming began reports an
 *   `error` event in the stream instead.
 * - Cancelling a returned `body` aborts the model call; the turn commits nothing and settles.
 * - `eraseTenant` (erase.ts) answers only the erasure context: it erases every session the
 *   directory lists, then the directory.
 *
 * The entrypoint is thin: it resolves which session a call is about through the tenant's
 * SessionDirectory (a session id the directory does not hold is "not_found" before any
 * ChatSession is touched), then hands the work to that ChatSession (turns, history, reset,
 * delete), to completions.ts (stateless calls) or to speech.ts (text-to-speech, no session).
 *
 * Offline by default: AI_PROVIDER "local" needs no account or network, for `pnpm dev` and tests.
 * Production deploys with `wrangler deploy --env production`, whose `env.production` block in
 * wrangler.jsonc adds the Workers AI binding (`"ai": { "binding": "AI" }`) and sets AI_PROVIDER
 * "workers-ai". The binding is kept out of the default env on purpose: declared there, it makes
 * `wrangler dev` open a remote proxy session, which fails without a Cloudflare login.
 */
import {
  CHAT_LIMITS,
  fail,
  ok,
  type ChatTurnInput,
  type ChatTurnReply,
  type EraseReport,
  type EraseRequest,
  type MessageRecord,
  type OpenAiChatBody,
  type Page,
  type PageRequest,
  pageOf,
  type RpcError,
  type RpcResult,
  type SessionSummary,
  type SpeechAudio,
  type SpeechBody,
  type StartedStream,
  type StreamFormat,
  type TenantContext,
  type TurnGrant,
} from "@crispy/contracts";
import { InternalEntrypoint, idForMessage, stubFor } from "@crispy/worker-kit";
import { grantProblem, keep } from "./budget";
import { startCompletion, type TimedCompletion } from "./completions";
import { eraseTenant } from "./erase";
import { newSessionId } from "./ids";
import { asFormat, completionBodyProblem, formatProblem, turnInputProblem } from "./input";
import { SessionDirectory } from "./directory";
import { ChatSession, type SessionTarget } from "./session";
import { speak } from "./speech";

function notFound(sessionId: unknown): { ok: false; error: RpcError } {
  return fail("not_found", `session "${idForMessage(sessionId)}" does not exist`);
}

const PAGE_SIZES = { defaultSize: CHAT_LIMITS.defaultPageSize, maxSize: CHAT_LIMITS.maxPageSize };

export { ChatSession, SessionDirectory };

export default class ChatService extends InternalEntrypoint<ChatEnv> {
  protected readonly worker = "chat";

  /**
   * Starts a turn (a new session when `input.sessionId` is absent); its answer streams as SSE.
   * `grant` is what it may spend (the gateway's TurnBudget; chat settles it when the stream ends).
   */
  async stream(
    tenant: TenantContext,
    input: ChatTurnInput,
    format: StreamFormat,
    grant: TurnGrant,
  ): Promise<RpcResult<StartedStream>> {
    const problem = turnInputProblem(input) ?? formatProblem(format) ?? grantProblem(grant);
    if (problem) return fail("bad_request", problem);
    const target = await this.#target(tenant, input.sessionId);
    if (!target.ok) return target;
    const session = stubFor(this.env.CHAT_SESSION, tenant.tenantId, target.value.sessionId);
    return (await session.stream(tenant, target.value, input, format, keep(grant))) as RpcResult<StartedStream>;
  }

  /**
   * Runs a turn to the end (a new session when `input.sessionId` is absent); no streaming. A
   * caller-settled grant is settled by the caller from the reply's usage (or a failure's usedTokens).
   */
  async complete(tenant: TenantContext, input: ChatTurnInput, grant: TurnGrant): Promise<RpcResult<ChatTurnReply>> {
    const problem = turnInputProblem(input) ?? grantProblem(grant);
    if (problem) return fail("bad_request", problem);
    const target = await this.#target(tenant, input.sessionId);
    if (!target.ok) return target;
    const session = stubFor(this.env.CHAT_SESSION, tenant.tenantId, target.value.sessionId);
    return session.complete(tenant, target.value, input, keep(grant));
  }

  /** OpenAI-style chat completion over the client's messages; SSE when `body.stream`, else JSON. */
  async completions(
    tenant: TenantContext,
    body: OpenAiChatBody,
    grant: TurnGrant,
    format: StreamFormat = "openai",
  ): Promise<RpcResult<StartedStream | TimedCompletion>> {
    const problem = completionBodyProblem(body) ?? formatProblem(format) ?? grantProblem(grant);
    if (problem) return fail("bad_request", problem);
    return startCompletion(this.env, this.ctx, tenant, body, grant, asFormat(format));
  }

  /** OpenAI-style text-to-speech with the tenant's speech model; the audio streams as it is made. */
  async speech(tenant: TenantContext, body: SpeechBody): Promise<RpcResult<SpeechAudio>> {
    return speak(this.env, this.ctx, tenant, body);
  }

  /** One page of the tenant's sessions, most recently updated first. */
  async listSessions(tenant: TenantContext, page: PageRequest): Promise<RpcResult<Page<SessionSummary>>> {
    return stubFor(this.env.SESSION_DIRECTORY, tenant.tenantId).list(pageOf(page, PAGE_SIZES));
  }

  /** One page of a session's messages, oldest first. */
  async history(tenant: TenantContext, sessionId: string, page: PageRequest): Promise<RpcResult<Page<MessageRecord>>> {
    if (!(await this.#exists(tenant, sessionId))) return notFound(sessionId);
    return stubFor(this.env.CHAT_SESSION, tenant.tenantId, sessionId).history(pageOf(page, PAGE_SIZES));
  }

  /** Deletes a session and all its messages. */
  async deleteSession(tenant: TenantContext, sessionId: string): Promise<RpcResult<{ id: string; deleted: true }>> {
    if (typeof sessionId !== "string") return notFound(sessionId);
    if (!(await stubFor(this.env.SESSION_DIRECTORY, tenant.tenantId).remove(sessionId))) return notFound(sessionId);
    await stubFor(this.env.CHAT_SESSION, tenant.tenantId, sessionId).destroy();
    return ok({ id: sessionId, deleted: true });
  }

  /** Deletes a session's messages but keeps the session; returns its summary after the reset. */
  async resetSession(tenant: TenantContext, sessionId: string): Promise<RpcResult<SessionSummary>> {
    if (!(await this.#exists(tenant, sessionId))) return notFound(sessionId);
    await stubFor(this.env.CHAT_SESSION, tenant.tenantId, sessionId).reset(tenant, sessionId);
    const summary = await stubFor(this.env.SESSION_DIRECTORY, tenant.tenantId).get(sessionId);
    return summary ? ok(summary) : notFound(sessionId);
  }

  /** Tenant erasure (the gateway's erasure job only): one batch of the tenant's sessions, or a count of what is left. */
  async eraseTenant(tenant: TenantContext, request?: EraseRequest): Promise<RpcResult<EraseReport>> {
    return eraseTenant(this.env, tenant, request);
  }

  /** The session a turn goes to: a fresh id when none is given, else one the tenant holds. */
  async #target(tenant: TenantContext, sessionId: string | undefined): Promise<RpcResult<SessionTarget>> {
    if (sessionId === undefined) return ok({ sessionId: newSessionId(), isNew: true });
    if (!(await this.#exists(tenant, sessionId))) return notFound(sessionId);
    return ok({ sessionId, isNew: false });
  }

  async #exists(tenant: TenantContext, sessionId: string): Promise<boolean> {
    if (typeof sessionId !== "string") return false;
    return (await stubFor(this.env.SESSION_DIRECTORY, tenant.tenantId).get(sessionId)) !== null;
  }
}
