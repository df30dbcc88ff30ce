/**
 * The audit log's storage: table `audit_log` in the gateway's D1 `KEYS_DB` (migrations/0004).
 * Every row carries its tenant id; every read names one tenant, except the operator's listing
 * across tenants. Rows are appended, listed newest first by `seq` (insertion order) with opaque
 * cursors, and deleted only by tenant erasure.
 */
import { type AuditAction, type AuditRecord, decodeCursor, encodeCursor, type Page } from "@crispy/contracts";
import { HttpError } from "../http/errors";

/** The action whose rows outlive a tenant's erasure: the record that it was erased (ids and counts only). */
export const ERASURE_ACTION: AuditAction = "tenant.erased";

/** Largest `details` JSON kept; larger details are replaced by a note that they were cut. */
const MAX_DETAILS_CHARS = 4_096;

interface AuditRow {
  seq: number;
  id: string;
  tenant_id: string;
  at: string;
  actor: string;
  action: AuditAction;
  target: string | null;
  request_id: string;
  details: string;
}

/** One row to append. */
export interface AuditInsert {
  tenantId: string;
  actor: string;
  action: AuditAction;
  target: string | null;
  requestId: string;
  details?: Record<string, unknown>;
  at?: Date;
}

function detailsJson(details: Record<string, unknown> | undefined): string {
  const json = JSON.stringify(details ?? {});
  return json.length <= MAX_DETAILS_CHARS ? json : JSON.stringify({ truncated: true, chars: json.length });
}

function toRecord(row: AuditRow): AuditRecord {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    details = {};
  }
  return {
    id: row.id,
    tenantId: row.tenant_id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    requestId: row.request_id,
    details,
  };
}

/**
 * The statement appending `row`; with `onlyIf` (an SQL condition and its values) the row is
 * appended only when the condition holds — in the same batch as the change it records, so the
 * change and its audit row are written together or not at all.
 */
export function auditStatement(
  db: D1Database,
  row: AuditInsert,
  onlyIf?: { sql: string; values: unknown[] },
): D1PreparedStatement {
  const values = [
    `aud_${crypto.randomUUID()}`,
    row.tenantId,
    (row.at ?? new Date()).toISOString(),
    row.actor,
    row.action,
    row.target,
    row.requestId,
    detailsJson(row.details),
  ];
  const columns = "id, tenant_id, at, actor, action, target, request_id, details";
  if (!onlyIf) {
    return db.prepare(`INSERT INTO audit_log (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).bind(...values);
  }
  return db
    .prepare(`INSERT INTO audit_log (${columns}) SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${onlyIf.sql}`)
    .bind(...values, ...onlyIf.values);
}

/**
 * One page of audit rows, newest first: one tenant's (`tenantId`), or every tenant's (the
 * operator's listing, when `tenantId` is undefined), optionally of one action only.
 */
export async function listAudit(
  db: D1Database,
  query: { tenantId?: string; limit: number; cursor?: string; action?: AuditAction },
): Promise<Page<AuditRecord>> {
  const where: string[] = [];
  const values: unknown[] = [];
  if (query.tenantId !== undefined) {
    where.push("tenant_id = ?");
    values.push(query.tenantId);
  }
  if (query.cursor !== undefined) {
    const before = decodeCursor("audit", query.cursor);
    if (before === null)
      throw new HttpError("validation_failed", "query cursor: is not a cursor of this audit listing");
    where.push("seq < ?");
    values.push(before);
  }
  if (query.action !== undefined) {
    where.push("action = ?");
    values.push(query.action);
  }
  const { results } = await db
    .prepare(
      `SELECT seq, id, tenant_id, at, actor, action, target, request_id, details FROM audit_log
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`,
    )
    .bind(...values, query.limit + 1)
    .all<AuditRow>();
  const page = results.slice(0, query.limit);
  const more = results.length > query.limit;
  return { items: page.map(toRecord), nextCursor: more ? encodeCursor("audit", page.at(-1)!.seq) : null };
}

/**
 * Tenant erasure (the erasure job's gateway step): deletes `tenantId`'s audit rows, at most
 * `batchSize` per call — all but its `tenant.erased` rows, the record that the tenant was erased
 * (ids, times and counts; nothing of the tenant's content). Call until `deleted` is 0.
 */
export async function eraseTenantAudit(
  db: D1Database,
  tenantId: string,
  batchSize = 1_000,
): Promise<{ deleted: number }> {
  const result = await db
    .prepare(
      `DELETE FROM audit_log WHERE seq IN (
         SELECT seq FROM audit_log WHERE tenant_id = ? AND action != ? LIMIT ?
       )`,
    )
    .bind(tenantId, ERASURE_ACTION, batchSize)
    .run();
  return { deleted: result.meta.changes ?? 0 };
}

/** How many audit rows `tenantId` has besides its `tenant.erased` ones: the erasure job's verification expects 0. */
export async function countTenantAudit(db: D1Database, tenantId: string): Promise<number> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n FROM audit_log WHERE tenant_id = ? AND action != ?")
    .bind(tenantId, ERASURE_ACTION)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
