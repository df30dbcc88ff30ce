/**
 * Durable Object names, tenant id first (house rule): a tenant's objects can only be reached
 * through names that start with its own id, so one tenant's session id can never open another
 * tenant's session.
 */
import type { ChatSession } from "./session";
import type { SessionDirectory } from "./directory";

/** The ChatSession `${tenantId}:${sessionId}`. */
export function sessionStub(env: ChatEnv, tenantId: string, sessionId: string): DurableObjectStub<ChatSession> {
  return env.CHAT_SESSION.getByName(`${tenantId}:${sessionId}`);
}

/** The SessionDirectory `${tenantId}`. */
export function directoryStub(env: ChatEnv, tenantId: string): DurableObjectStub<SessionDirectory> {
  return env.SESSION_DIRECTORY.getByName(tenantId);
}
