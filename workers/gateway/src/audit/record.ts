/**
 * Recording an administrative action in the audit log (docs/audit.md), with the acting request's
 * tenant, actor (its key id, or "operator" on the operator API), request id and time.
 *
 * Written before the response, not in `waitUntil`: admin actions are rare (a D1 write is noise
 * next to them), and a response saying the action happened must mean the audit says so too — a
 * `waitUntil` write is lost if the isolate goes away after answering. The gateway's own changes
 * (keys) go in one D1 batch with their audit row (`auditStatement`), so both or neither are
 * written. An action another worker already did (a tool, a document) cannot be undone when its
 * audit write fails: the write is tried again, then once more off the response path, and a
 * failure is logged as `audit_write_failed` with the whole entry — the action still succeeds.
 */
import { type AuditAction, OPERATOR_ACTOR } from "@crispy/contracts";
import { log } from "@crispy/observability";
import { errorMessage } from "@crispy/worker-kit";
import type { RequestState } from "../state";
import { type AuditInsert, auditStatement } from "./store";

/** What was done: the action, what it was done to, and what changed (never a secret, a prompt or a document's text). */
export interface AuditEntry {
  action: AuditAction;
  target: string | null;
  details?: Record<string, unknown>;
}

const ATTEMPTS = 2;
const RETRY_DELAY_MS = 1_000;

/** The row `entry` becomes for the request in `state` (whose tenant must be resolved). */
export function auditRowOf(state: RequestState, entry: AuditEntry, at = new Date()): AuditInsert {
  if (!state.tenant) throw new Error("an audited action needs the request's tenant");
  return {
    tenantId: state.tenant.id,
    actor: state.key?.id ?? OPERATOR_ACTOR,
    action: entry.action,
    target: entry.target,
    requestId: state.requestId,
    ...(entry.details ? { details: entry.details } : {}),
    at,
  };
}

/** Appends one row now, trying again once; a row that could not be written is logged and tried once more in the background. */
export async function writeAudit(db: D1Database, ctx: ExecutionContext, row: AuditInsert): Promise<void> {
  const statement = auditStatement(db, row);
  let failure: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      await statement.run();
      return;
    } catch (error) {
      // An attempt that timed out after writing: the row is there (its id is unique).
      if (attempt > 0 && /UNIQUE/i.test(errorMessage(error))) return;
      failure = error;
    }
  }
  const fields = {
    tenantId: row.tenantId,
    requestId: row.requestId,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: row.details ?? {},
    at: (row.at ?? new Date()).toISOString(),
  };
  log("error", "audit_write_failed", { ...fields, message: errorMessage(failure) });
  ctx.waitUntil(
    new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS))
      .then(() => statement.run())
      .then(() => log("info", "audit_write_recovered", fields))
      .catch(() => undefined),
  );
}

/**
 * Records an administrative action of the request in `state` (tenant resolved; actor: its key, or
 * the operator). Call it once the action succeeded. Used by the key, tool, MCP-server and document
 * routes; the erasure job, which acts outside a request, uses `writeAudit` with its own row.
 */
export async function recordAudit(
  env: GatewayEnv,
  ctx: ExecutionContext,
  state: RequestState,
  entry: AuditEntry,
): Promise<void> {
  await writeAudit(env.KEYS_DB, ctx, auditRowOf(state, entry));
}
