/**
 * API keys: `ce_` + 32 random bytes (base64url). Only the SHA-256 of a key is stored, in the
 * gateway's own D1 database; the key itself is returned once, at creation. A key belongs to one
 * tenant and carries scopes, an optional tool allow-list, an optional expiry, a revocation time
 * and a last-used time.
 */
import type { ApiKeySummary, CreateKeyBody, CreatedApiKey, Scope } from "@crispy/contracts";
import { randomToken, sha256Hex } from "@crispy/worker-kit/util";

export const KEY_PREFIX = "ce_";
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
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

const COLUMNS = "id, tenant_id, name, prefix, scopes, tools, created_at, expires_at, revoked_at, last_used_at";

function toRecord(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.split(",").filter(Boolean) as Scope[],
    tools: row.tools === null ? null : row.tools.split(",").filter(Boolean),
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

/** Creates a key for a tenant; the returned `key` is never retrievable again. */
export async function createKey(
  db: D1Database,
  tenantId: string,
  input: CreateKeyBody,
  now = new Date(),
): Promise<CreatedApiKey> {
  const key = KEY_PREFIX + randomToken(32);
  const id = `key_${randomToken(12)}`;
  const scopes = [...new Set(input.scopes)].sort();
  const createdAt = now.toISOString();
  const expiresAt = input.expiresInSeconds
    ? new Date(now.getTime() + input.expiresInSeconds * 1000).toISOString()
    : null;
  const record: KeyRecord = {
    id,
    tenantId,
    name: input.name ?? null,
    prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
    scopes,
    tools: input.tools ? [...new Set(input.tools)].sort() : null,
    createdAt,
    expiresAt,
    revokedAt: null,
    lastUsedAt: null,
  };
  await db
    .prepare(
      "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, tools, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(
      id,
      tenantId,
      record.name,
      record.prefix,
      await hashKey(key),
      scopes.join(","),
      record.tools?.join(",") ?? null,
      createdAt,
      expiresAt,
    )
    .run();
  return { ...record, key };
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

/** Revokes a tenant's key; null when the tenant has no such key. Revoking twice keeps the first time. */
export async function revokeKey(
  db: D1Database,
  tenantId: string,
  keyId: string,
  now = new Date(),
): Promise<KeyRecord | null> {
  const row = await db
    .prepare(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ? RETURNING ${COLUMNS}`,
    )
    .bind(now.toISOString(), tenantId, keyId)
    .first<KeyRow>();
  return row ? toRecord(row) : null;
}

/** Records when a key was last used. */
export async function touchKey(db: D1Database, keyId: string, now = new Date()): Promise<void> {
  await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now.toISOString(), keyId).run();
}
