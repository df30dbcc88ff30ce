/**
 * SessionDirectory Durable Object: one per tenant, named `${tenantId}`. The tenant's list of chat
 * sessions (id, title, message count, created/updated) and the source of truth for whether a
 * session exists: the chat worker answers "not_found" for any id this directory does not hold,
 * which covers other tenants' ids (their sessions live in their own directory).
 *
 * Invariants:
 * - `position` orders sessions by last update: every create or touch gives the session a position
 *   above all others, so "newest updated first" is exact even when two updates share a millisecond.
 *   Pages are cut by position, so a cursor never repeats an item within one listing pass.
 * - The title is the first user message (trimmed, whitespace collapsed, ≤ TITLE_MAX_CHARS); it is
 *   set once and only replaced after a reset cleared it.
 * - A session is listed from its first committed turn on (`create`, by its ChatSession); a turn
 *   that fails or is aborted before leaves no entry.
 * - Only the ChatSession of a session (after a commit, reset or expiry) and the chat entrypoint
 *   (delete, tenant erasure: erase.ts) write here.
 */
import { DurableObject } from "cloudflare:workers";
import {
  decodeCursor,
  encodeCursor,
  fail,
  ok,
  type Page,
  type RpcResult,
  type SessionSummary,
} from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";

export const TITLE_MAX_CHARS = 60;

type SessionRow = {
  id: string;
  title: string;
  message_count: number;
  created_at: number;
  updated_at: number;
  position: number;
};

/** A session title from its first user message: one line, at most TITLE_MAX_CHARS characters. */
export function titleFrom(message: string): string {
  const line = message.replace(/\s+/g, " ").trim();
  if (line.length <= TITLE_MAX_CHARS) return line;
  return `${line.slice(0, TITLE_MAX_CHARS - 1).trimEnd()}…`;
}

function summaryOf(row: SessionRow): SessionSummary {
  return {
    id: row.id,
    title: row.title,
    messageCount: row.message_count,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export interface SessionUpdate {
  messageCount: number;
  /** Becomes the title if the session has none yet. */
  title?: string;
  /** Clears the title (after a reset). */
  clearTitle?: boolean;
}

export class SessionDirectory extends DurableObject<ChatEnv> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: ChatEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#migrate();
  }

  /** Lists a new session once its first turn has committed, titled by its first user message. */
  async create(sessionId: string, update: SessionUpdate): Promise<SessionSummary> {
    const now = Date.now();
    this.#sql.exec(
      `INSERT INTO sessions (id, title, message_count, created_at, updated_at, position)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET message_count = excluded.message_count, updated_at = excluded.updated_at,
         position = excluded.position`,
      sessionId,
      titleFrom(update.title ?? ""),
      update.messageCount,
      now,
      now,
      this.#nextPosition(),
    );
    return summaryOf(this.#row(sessionId)!);
  }

  /** The session's summary, or null when the tenant has no such session. */
  async get(sessionId: string): Promise<SessionSummary | null> {
    const row = this.#row(sessionId);
    return row ? summaryOf(row) : null;
  }

  /** Records a change to a session; returns false when the session no longer exists. */
  async touch(sessionId: string, update: SessionUpdate): Promise<boolean> {
    const row = this.#row(sessionId);
    if (!row) return false;
    let title = row.title;
    if (update.clearTitle) title = "";
    else if (title === "" && update.title) title = titleFrom(update.title);
    this.#sql.exec(
      "UPDATE sessions SET title = ?, message_count = ?, updated_at = ?, position = ? WHERE id = ?",
      title,
      update.messageCount,
      Date.now(),
      this.#nextPosition(),
      sessionId,
    );
    return true;
  }

  /** Removes a session; returns false when it did not exist. */
  async remove(sessionId: string): Promise<boolean> {
    return this.#sql.exec("DELETE FROM sessions WHERE id = ?", sessionId).rowsWritten > 0;
  }

  /** One page of sessions, most recently updated first. */
  async list(page: { cursor?: string; limit: number }): Promise<RpcResult<Page<SessionSummary>>> {
    let before = Number.MAX_SAFE_INTEGER;
    if (page.cursor !== undefined) {
      const position = decodeCursor("sessions", page.cursor);
      if (position === null) return fail("bad_request", "cursor is not a session-list cursor");
      before = position;
    }
    const rows = this.#sql
      .exec<SessionRow>(
        "SELECT * FROM sessions WHERE position < ? ORDER BY position DESC LIMIT ?",
        before,
        page.limit + 1,
      )
      .toArray();
    const items = rows.slice(0, page.limit);
    const more = rows.length > page.limit;
    return ok({
      items: items.map(summaryOf),
      nextCursor: more ? encodeCursor("sessions", items.at(-1)!.position) : null,
    });
  }

  /** Erasure (erase.ts): the ids of up to `limit` sessions, least recently updated first. */
  async oldest(limit: number): Promise<string[]> {
    return this.#sql
      .exec<{ id: string }>("SELECT id FROM sessions ORDER BY position LIMIT ?", limit)
      .toArray()
      .map((row) => row.id);
  }

  /** Erasure: unlists sessions whose storage is already gone. */
  async removeMany(sessionIds: string[]): Promise<void> {
    for (const id of sessionIds) this.#sql.exec("DELETE FROM sessions WHERE id = ?", id);
  }

  /** Erasure: how many sessions are listed. */
  async size(): Promise<number> {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions").one().n;
  }

  /** Erasure: deletes the directory's whole storage if it lists no session; false (nothing deleted) if it does. */
  async eraseIfEmpty(): Promise<boolean> {
    if ((await this.size()) > 0) return false;
    await this.ctx.storage.deleteAll();
    // The tables again, empty, so this instance keeps working (a tenant id used again starts empty).
    this.#migrate();
    return true;
  }

  #migrate(): void {
    migrateSchema(this.ctx.storage, [
      `
        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          title TEXT NOT NULL,
          message_count INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          position INTEGER NOT NULL UNIQUE
        );
      `,
    ]);
  }

  #row(sessionId: string): SessionRow | undefined {
    return this.#sql.exec<SessionRow>("SELECT * FROM sessions WHERE id = ?", sessionId).toArray()[0];
  }

  #nextPosition(): number {
    return this.#sql.exec<{ next: number }>("SELECT COALESCE(MAX(position), 0) + 1 AS next FROM sessions").one().next;
  }
}
