/**
 * Identifiers minted by the chat worker. Random (not sequential), so ids reveal nothing about
 * other sessions or tenants; all match the contracts' SESSION_ID_PATTERN alphabet.
 */
function randomId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** A new session id: `ses_` + 32 hex characters. */
export function newSessionId(): string {
  return `ses_${randomId()}`;
}

/** A new turn id: `turn_` + 32 hex characters. */
export function newTurnId(): string {
  return `turn_${randomId()}`;
}
