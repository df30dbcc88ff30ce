/**
 * The SQL of one tenant's execution audit (D1 table tool_executions, see db-schema.ts): one row
 * per execute call, allowed or not. Every statement is bound to the store's tenant id, so a tenant
 * never reads another's rows. Pages are newest first by `seq`; the cursor is the last row's seq.
 */
import type { ToolCaller, ToolExecutionRecord, ToolExecutionStatus } from "@crispy/contracts";
import { randomToken } from "@crispy/worker-kit/util";
import { ensureSchema } from "./db-schema";

/** Characters of an error message kept in the audit. */
const MAX_ERROR_CHARS = 500;

/** An execution id: `ex_` + the time in base36 (fixed width, so ids sort by time) + randomness. */
export function newExecutionId(now = Date.now()): string {
  return `ex_${now.toString(36).padStart(10, "0")}${randomToken(9)}`;
}

export interface AuditEntry {
  id: string;
  tool: string;
  keyId: string | null;
  sessionId: string | null;
  caller: ToolCaller;
  callId: string | null;
  inputDigest: string;
  status: ToolExecutionStatus;
  durationMs: number;
  outputBytes: number;
  error: string | null;
  createdAt: string;
}

interface Row {
  seq: number;
  id: string;
  tool: string;
  key_id: string | null;
  session_id: string | null;
  caller: ToolCaller;
  input_digest: string;
  status: ToolExecutionStatus;
  duration_ms: number;
  output_bytes: number;
  error: string | null;
  created_at: string;
}

export interface AuditQuery {
  /** Rows older than this seq (the cursor's position); null for the newest. */
  before: number | null;
  limit: number;
  tool?: string;
  /** Only these tools (the key's allow-list); undefined for any. */
  tools?: string[];
}

export class AuditStore {
  readonly #db: D1Database;
  readonly #tenantId: string;

  constructor(db: D1Database, tenantId: string) {
    this.#db = db;
    this.#tenantId = tenantId;
  }

  async record(entry: AuditEntry): Promise<void> {
    await ensureSchema(this.#db);
    await this.#db
      .prepare(
        `INSERT INTO tool_executions (id, tenant_id, tool, key_id, session_id, caller, call_id, input_digest,
           status, duration_ms, output_bytes, error, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        entry.id,
        this.#tenantId,
        entry.tool,
        entry.keyId,
        entry.sessionId,
        entry.caller,
        entry.callId,
        entry.inputDigest,
        entry.status,
        Math.round(entry.durationMs),
        entry.outputBytes,
        entry.error === null ? null : entry.error.slice(0, MAX_ERROR_CHARS),
        entry.createdAt,
      )
      .run();
  }

  /** One page, newest first, and the seq to continue before (null on the last page). */
  async page(query: AuditQuery): Promise<{ items: ToolExecutionRecord[]; nextBefore: number | null }> {
    await ensureSchema(this.#db);
    const where = ["tenant_id = ?"];
    const binds: unknown[] = [this.#tenantId];
    if (query.before !== null) {
      where.push("seq < ?");
      binds.push(query.before);
    }
    if (query.tool !== undefined) {
      where.push("tool = ?");
      binds.push(query.tool);
    }
    if (query.tools !== undefined) {
      where.push("tool IN (SELECT value FROM json_each(?))");
      binds.push(JSON.stringify(query.tools));
    }
    const { results } = await this.#db
      .prepare(
        `SELECT seq, id, tool, key_id, session_id, caller, input_digest, status, duration_ms, output_bytes, error, created_at
         FROM tool_executions WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`,
      )
      .bind(...binds, query.limit + 1)
      .all<Row>();
    const rows = results.slice(0, query.limit);
    return {
      items: rows.map(fromRow),
      nextBefore: results.length > query.limit ? rows.at(-1)!.seq : null,
    };
  }
}

function fromRow(row: Row): ToolExecutionRecord {
  return {
    id: row.id,
    tool: row.tool,
    keyId: row.key_id,
    sessionId: row.session_id,
    caller: row.caller,
    inputDigest: row.input_digest,
    status: row.status,
    durationMs: row.duration_ms,
    outputBytes: row.output_bytes,
    error: row.error,
    createdAt: row.created_at,
  };
}
