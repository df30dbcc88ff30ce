/**
 * ChatService, the worker's RPC entrypoint (exported as default by index.ts). Thin: it resolves
 * which session a call is about through the tenant's SessionDirectory, then hands the work to that
 * session's ChatSession (turns, history, reset, delete) or to completions.ts (stateless calls).
 *
 * Invariants:
 * - Every method takes the TenantContext first and reaches only Durable Objects named by its
 *   tenant id (names.ts).
 * - A session id the tenant's directory does not hold (unknown, deleted, expired, or another
 *   tenant's) is "not_found" for every method, indistinguishable from missing; the check happens
 *   here, before any ChatSession is touched.
 * - Expected failures are RpcResult values; a throw is a bug.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import {
  CHAT_LIMITS,
  fail,
  ok,
  type ChatTurnInput,
  type ChatTurnReply,
  type MessageRecord,
  type OpenAiChatBody,
  type Page,
  type RpcError,
  type RpcResult,
  type SessionSummary,
  type StartedStream,
  type StreamFormat,
  type TenantContext,
} from "@crispy/contracts";
import { startCompletion } from "./completions";
import { newSessionId } from "./ids";
import { directoryStub, sessionStub } from "./names";
import type { OpenAiChatCompletion } from "./openai";
import type { SessionTarget } from "./session";

export interface PingReply {
  worker: "chat";
  tenantId: string;
  requestId: string;
}

/** The tenant's chat model policy: the default, its fallbacks, and every model it may request. */
export interface ChatModels {
  default: string;
  fallbacks: string[];
  allowed: string[];
}

export interface PageRequest {
  cursor?: string;
  limit: number;
}

function notFound(sessionId: string): { ok: false; error: RpcError } {
  return fail("not_found", `session "${sessionId.slice(0, 64)}" does not exist`);
}

const DEFAULT_PAGE_SIZE = CHAT_LIMITS.defaultPageSize;
const MAX_PAGE_SIZE = CHAT_LIMITS.maxPageSize;

/** The page asked for, with the limit kept within 1..MAX_PAGE_SIZE (the gateway validated it). */
function pageOf(page: PageRequest | undefined): PageRequest {
  const limit = Number.isInteger(page?.limit) ? page!.limit : DEFAULT_PAGE_SIZE;
  const clamped = Math.min(Math.max(limit, 1), MAX_PAGE_SIZE);
  return page?.cursor ? { cursor: page.cursor, limit: clamped } : { limit: clamped };
}

export class ChatService extends WorkerEntrypoint<ChatEnv> {
  /** Proves the RPC path: echoes which tenant and request reached this worker. */
  async ping(tenant: TenantContext): Promise<RpcResult<PingReply>> {
    return ok({ worker: "chat", tenantId: tenant.tenantId, requestId: tenant.requestId });
  }

  /** Starts a turn (a new session when `input.sessionId` is absent); its answer streams as SSE. */
  async stream(tenant: TenantContext, input: ChatTurnInput, format: StreamFormat): Promise<RpcResult<StartedStream>> {
    const target = await this.#target(tenant, input.sessionId);
    if (!target.ok) return target;
    const session = sessionStub(this.env, tenant.tenantId, target.value.sessionId);
    return (await session.stream(tenant, target.value, input, format)) as RpcResult<StartedStream>;
  }

  /** Runs a turn to the end (a new session when `input.sessionId` is absent); no streaming. */
  async complete(tenant: TenantContext, input: ChatTurnInput): Promise<RpcResult<ChatTurnReply>> {
    const target = await this.#target(tenant, input.sessionId);
    if (!target.ok) return target;
    const session = sessionStub(this.env, tenant.tenantId, target.value.sessionId);
    return session.complete(tenant, target.value, input);
  }

  /** OpenAI-style chat completion over the client's messages; SSE when `body.stream`, else JSON. */
  async completions(
    tenant: TenantContext,
    body: OpenAiChatBody,
    format: StreamFormat = "openai",
  ): Promise<RpcResult<StartedStream | OpenAiChatCompletion>> {
    return startCompletion(this.env, this.ctx, tenant, body, format);
  }

  /** One page of the tenant's sessions, most recently updated first. */
  async listSessions(tenant: TenantContext, page: PageRequest): Promise<RpcResult<Page<SessionSummary>>> {
    return directoryStub(this.env, tenant.tenantId).list(pageOf(page));
  }

  /** One page of a session's messages, oldest first. */
  async history(tenant: TenantContext, sessionId: string, page: PageRequest): Promise<RpcResult<Page<MessageRecord>>> {
    if (!(await this.#exists(tenant, sessionId))) return notFound(sessionId);
    return sessionStub(this.env, tenant.tenantId, sessionId).history(pageOf(page));
  }

  /** Deletes a session and all its messages. */
  async deleteSession(tenant: TenantContext, sessionId: string): Promise<RpcResult<{ id: string; deleted: true }>> {
    if (typeof sessionId !== "string") return notFound(String(sessionId));
    if (!(await directoryStub(this.env, tenant.tenantId).remove(sessionId))) return notFound(sessionId);
    await sessionStub(this.env, tenant.tenantId, sessionId).destroy();
    return ok({ id: sessionId, deleted: true });
  }

  /** Deletes a session's messages but keeps the session; returns its summary after the reset. */
  async resetSession(tenant: TenantContext, sessionId: string): Promise<RpcResult<SessionSummary>> {
    if (!(await this.#exists(tenant, sessionId))) return notFound(sessionId);
    await sessionStub(this.env, tenant.tenantId, sessionId).reset(tenant, sessionId);
    const summary = await directoryStub(this.env, tenant.tenantId).get(sessionId);
    return summary ? ok(summary) : notFound(sessionId);
  }

  /** The chat models the tenant may use: its default, fallbacks and allow-list. */
  async models(tenant: TenantContext): Promise<RpcResult<ChatModels>> {
    const { default: model, fallbacks, allowed } = tenant.config.ai.chat;
    return ok({ default: model, fallbacks: [...fallbacks], allowed: [...allowed] });
  }

  /** No HTTP surface: this worker is reached over RPC only. */
  override async fetch(): Promise<Response> {
    return Response.json(fail("not_found", "crispy-chat has no HTTP routes; use RPC"), { status: 404 });
  }

  /** The session a turn goes to: a fresh id when none is given, else one the tenant holds. */
  async #target(tenant: TenantContext, sessionId: string | undefined): Promise<RpcResult<SessionTarget>> {
    if (sessionId === undefined) return ok({ sessionId: newSessionId(), isNew: true });
    if (!(await this.#exists(tenant, sessionId))) return notFound(sessionId);
    return ok({ sessionId, isNew: false });
  }

  async #exists(tenant: TenantContext, sessionId: string): Promise<boolean> {
    if (typeof sessionId !== "string") return false;
    return (await directoryStub(this.env, tenant.tenantId).get(sessionId)) !== null;
  }
}
