/**
 * API keys: `ce_` + 32 random bytes (base64url). Only the SHA-256 of a key is stored, in the
 * gateway's own D1 database; the key itself is returned once, at creation. A key belongs to one
 * tenant and carries scopes, an optional tool allow-list, its own optional limits (request rate,
 * token rate, budgets; each at most the tenant's), an optional expiry, a revocation time and a
 * last-used time.
 *
 * A publishable key (`pk_` + 32 random bytes, docs/widget.md) is stored the same way, with its
 * kind, its origins and its visitors' own rate (migration 0005). The prefix tells the kinds apart
 * before any lookup: `authenticate` only ever looks up `ce_` keys, so a publishable key can never
 * pass as a secret one.
 */
import {
  type ApiKeySummary,
  type CreatedApiKey,
  type KeyKind,
  type KeyLimits,
  KeyLimitsSchema,
  type PublishableSettings,
  type Scope,
  VisitorLimitsSchema,
} from "@crispy/contracts";
import { randomToken, sha256Hex } from "@crispy/worker-kit/util";

export const KEY_PREFIX = "ce_";
export const PUBLISHABLE_KEY_PREFIX = "pk_";
const DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length + 8;

export interface KeyRecord extends ApiKeySummary {
  scopes: Scope[];
}

interface KeyRow {
  id: string;
  tenant_id: string;
  name: string | null;
  prefix: string;
  scopes: string;
  tools: string | null;
  limits: string | null;
  kind: string;
  origins: string | null;
  visitor_limits: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

const COLUMNS =
  "id, tenant_id, name, prefix, scopes, tools, limits, kind, origins, visitor_limits, created_at, expires_at, revoked_at, last_used_at";

/** A stored limits column as limits: JSON checked against the schema (a row no code wrote reads as none). */
function limitsOf(column: string | null): KeyLimits | null {
  if (column === null) return null;
  try {
    const parsed = KeyLimitsSchema.safeParse(JSON.parse(column));
    return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Limits as stored: JSON, or NULL for none. */
export function limitsColumn(limits: KeyLimits | null | undefined): string | null {
  return limits && Object.keys(limits).length > 0 ? JSON.stringify(limits) : null;
}

/** A publishable key's stored origins and visitor limits (a row no code wrote reads as no origins: usable nowhere). */
function publishableOf(row: KeyRow): PublishableSettings {
  let origins: string[] = [];
  let visitorLimits = { requestsPerMinute: 1, burst: 1 };
  try {
    const parsed: unknown = JSON.parse(row.origins ?? "[]");
    if (Array.isArray(parsed)) origins = parsed.filter((origin): origin is string => typeof origin === "string");
    const limits = VisitorLimitsSchema.safeParse(JSON.parse(row.visitor_limits ?? "null"));
    if (limits.success) visitorLimits = { burst: limits.data.requestsPerMinute, ...limits.data };
  } catch {
    origins = [];
  }
  return { origins, visitorLimits };
}

function toRecord(row: KeyRow): KeyRecord {
  const kind: KeyKind = row.kind === "publishable" ? "publishable" : "secret";
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.split(",").filter(Boolean) as Scope[],
    tools: row.tools === null ? null : row.tools.split(",").filter(Boolean),
    limits: limitsOf(row.limits),
    kind,
    ...(kind === "publishable" ? { publishable: publishableOf(row) } : {}),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** SHA-256 of a presented key, hex encoded: the only form in which keys are stored. */
export async function hashKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/** Whether a string could be one of our keys at all (cheap rejection before hashing). */
export function looksLikeKey(value: string): boolean {
  return (
    value.startsWith(KEY_PREFIX) &&
    value.length === KEY_PREFIX.length + 43 &&
    /^[A-Za-z0-9_-]+$/.test(value.slice(KEY_PREFIX.length))
  );
}

/** Whether a string could be a publishable key at all. */
export function looksLikePublishableKey(value: string): boolean {
  return (
    value.startsWith(PUBLISHABLE_KEY_PREFIX) &&
    value.length === PUBLISHABLE_KEY_PREFIX.length + 43 &&
    /^[A-Za-z0-9_-]+$/.test(value.slice(PUBLISHABLE_KEY_PREFIX.length))
  );
}

/** What a new key is made of: the operator's request, a publishable key's settings resolved (auth/publishable-keys.ts). */
export interface NewKeyInput {
  /** Omitted: "secret". */
  kind?: KeyKind | undefined;
  name?: string | undefined;
  scopes: Scope[];
  tools?: string[] | undefined;
  expiresInSeconds?: number | undefined;
  limits?: KeyLimits | undefined;
  /** Required for a publishable key. */
  publishable?: PublishableSettings | undefined;
}

/**
 * A new key for a tenant and the statement that stores it (so the caller can write it in one batch
 * with its audit row); the returned `key` is never retrievable again.
 */
export async function prepareKey(
  db: D1Database,
  tenantId: string,
  input: NewKeyInput,
  now = new Date(),
): Promise<{ created: CreatedApiKey; insert: D1PreparedStatement }> {
  const kind = input.kind ?? "secret";
  const publishable = kind === "publishable" ? input.publishable : undefined;
  if (kind === "publishable" && !publishable) throw new Error("a publishable key needs its settings");
  const key = (publishable ? PUBLISHABLE_KEY_PREFIX : KEY_PREFIX) + randomToken(32);
  const id = `key_${randomToken(12)}`;
  const scopes = [...new Set(input.scopes)].sort();
  const createdAt = now.toISOString();
  const expiresAt = input.expiresInSeconds
    ? new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString()
    : null;
  const limits = limitsColumn(input.limits);
  const record: KeyRecord = {
    id,
    tenantId,
    name: input.name ?? null,
    prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
    scopes,
    tools: input.tools ? [...new Set(input.tools)].sort() : null,
    limits: limitsOf(limits),
    kind,
    ...(publishable ? { publishable } : {}),
    createdAt,
    expiresAt,
    revokedAt: null,
    lastUsedAt: null,
  };
  const insert = db
    .prepare(
      "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, tools, limits, kind, origins, visitor_limits, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      id,
      tenantId,
      record.name,
      record.prefix,
      await hashKey(key),
      scopes.join(","),
      record.tools?.join(",") ?? null,
      limits,
      kind,
      publishable ? JSON.stringify(publishable.origins) : null,
      publishable ? JSON.stringify(publishable.visitorLimits) : null,
      createdAt,
      expiresAt,
    );
  return { created: { ...record, key }, insert };
}

/** Creates a key for a tenant; the returned `key` is never retrievable again. */
export async function createKey(
  db: D1Database,
  tenantId: string,
  input: NewKeyInput,
  now = new Date(),
): Promise<CreatedApiKey> {
  const { created, insert } = await prepareKey(db, tenantId, input, now);
  await insert.run();
  return created;
}

/** The record of a key by its hash, whatever its state (the caller judges expiry and revocation). */
export async function findKeyByHash(db: D1Database, keyHash: string): Promise<KeyRecord | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = ?`).bind(keyHash).first<KeyRow>();
  return row ? toRecord(row) : null;
}

/** A tenant's keys, newest first. */
export async function listKeys(db: D1Database, tenantId: string): Promise<KeyRecord[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id`)
    .bind(tenantId)
    .all<KeyRow>();
  return results.map(toRecord);
}

/**
 * A tenant's key by id, whatever its state, with its limits column as stored (what a change
 * computed from this read must find unchanged); null when the tenant has no such key.
 */
export async function findKey(
  db: D1Database,
  tenantId: string,
  keyId: string,
): Promise<{ record: KeyRecord; storedLimits: string | null } | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = ? AND id = ?`)
    .bind(tenantId, keyId)
    .first<KeyRow>();
  return row ? { record: toRecord(row), storedLimits: row.limits } : null;
}

/** The statement revoking a tenant's key (RETURNING the row; none when the tenant has no such key). Revoking twice keeps the first time. */
export function revokeStatement(db: D1Database, tenantId: string, keyId: string, now: Date): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ? RETURNING ${COLUMNS}`,
    )
    .bind(now.toISOString(), tenantId, keyId);
}

/**
 * The statement changing a key's name and limits (RETURNING the row), only if its limits column is
 * still `storedLimits` (what the change was computed from) — a concurrent change makes it match nothing.
 */
export function updateStatement(
  db: D1Database,
  tenantId: string,
  keyId: string,
  change: { name: string | null; limits: KeyLimits | null },
  storedLimits: string | null,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE api_keys SET name = ?, limits = ? WHERE tenant_id = ? AND id = ? AND limits IS ? RETURNING ${COLUMNS}`,
    )
    .bind(change.name, limitsColumn(change.limits), tenantId, keyId, storedLimits);
}

/** The record a RETURNING statement of this module gave, if any. */
export function returnedKey(result: D1Result<unknown>): KeyRecord | null {
  const row = (result.results as KeyRow[])[0];
  return row ? toRecord(row) : null;
}

/**
 * Tenant erasure (the erasure job's "keys" step): deletes every API key of `tenantId`, at most
 * `batchSize` per call, and returns how many it deleted and their ids (the job hands the ids to
 * crispy-ratelimit's eraseTenant for each key's own objects: RateLimiter `${tenantId}:key:${id}`
 * and `${tenantId}:tokens:${id}`, QuotaLedger `${tenantId}:key:${id}`). Call until `deleted` is 0.
 */
export async function eraseTenantKeys(
  db: D1Database,
  tenantId: string,
  batchSize = 1_000,
): Promise<{ deleted: number; keyIds: string[] }> {
  const { results } = await db
    .prepare(
      "DELETE FROM api_keys WHERE id IN (SELECT id FROM api_keys WHERE tenant_id = ? LIMIT ?) AND tenant_id = ? RETURNING id",
    )
    .bind(tenantId, batchSize, tenantId)
    .all<{ id: string }>();
  return { deleted: results.length, keyIds: results.map((row) => row.id) };
}

/** How many API keys `tenantId` has (any state): the erasure job's verification expects 0. */
export async function countTenantKeys(db: D1Database, tenantId: string): Promise<number> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n FROM api_keys WHERE tenant_id = ?")
    .bind(tenantId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Revokes a tenant's key; null when the tenant has no such key. Revoking twice keeps the first time. */
export async function revokeKey(
  db: D1Database,
  tenantId: string,
  keyId: string,
  now = new Date(),
): Promise<KeyRecord | null> {
  const row = await revokeStatement(db, tenantId, keyId, now).first<KeyRow>();
  return row ? toRecord(row) : null;
}

/** Records when a key was last used. */
export async function touchKey(db: D1Database, keyId: string, now = new Date()): Promise<void> {
  await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now.toISOString(), keyId).run();
}
