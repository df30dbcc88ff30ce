/**
 * Isolate-local cache of API-key lookups, so a hot key costs no D1 query per request.
 *
 * Revocation bound: an isolate may keep using a cached lookup for at most `KEY_CACHE_TTL_MS`
 * (10 s by default). The isolate that handles the revocation forgets the key at once; every other
 * isolate stops accepting it within the TTL. Expiry is exact, because it is checked on every use
 * against the cached record's `expiresAt`. Misses are cached too, so a flood of invalid keys
 * cannot turn into a flood of D1 queries.
 */
import { findKeyByHash, type KeyRecord } from "./api-keys";

const MAX_ENTRIES = 10_000;
const TOUCH_INTERVAL_MS = 60_000;

interface Entry {
  record: KeyRecord | null;
  expiresAt: number;
}

const entries = new Map<string, Entry>();
const lastTouched = new Map<string, number>();

/** The key record for a hash, from cache when fresh, else from D1. */
export async function lookupKey(
  db: D1Database,
  keyHash: string,
  ttlMs: number,
  now = Date.now(),
): Promise<KeyRecord | null> {
  const cached = entries.get(keyHash);
  if (cached && cached.expiresAt > now) return cached.record;
  const record = await findKeyByHash(db, keyHash);
  if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
  entries.set(keyHash, { record, expiresAt: now + ttlMs });
  return record;
}

/** Drops every cached lookup of a key, so this isolate sees its revocation immediately. */
export function forgetKey(keyId: string): void {
  for (const [hash, entry] of entries) {
    if (entry.record?.id === keyId) entries.delete(hash);
  }
}

/** Whether last-used should be written now (at most once a minute per key per isolate). */
export function shouldTouch(keyId: string, now = Date.now()): boolean {
  const last = lastTouched.get(keyId) ?? 0;
  if (now - last < TOUCH_INTERVAL_MS) return false;
  if (lastTouched.size >= MAX_ENTRIES) lastTouched.clear();
  lastTouched.set(keyId, now);
  return true;
}
