/**
 * The SQLite storage of one ChatSession: its ordered messages and a one-row record of which
 * session it is and when it expires. Synchronous only (SqlStorage), so every method is atomic with
 * respect to the other calls the Durable Object receives.
 *
 * Invariants:
 * - `seq` increases strictly in commit order and is never reused within a session's lifetime
 *   (AUTOINCREMENT), so history pages by seq are stable even after trimming or a reset.
 * - A turn's messages are written by `commitTurn` in one transaction, together with the trim to
 *   `maxMessages` and the new expiry: readers see all of a turn or none of it.
 * - Trimming drops the oldest messages first.
 */
import type { ToolCall } from "@crispy/ai";
import type { MessageRecord } from "@crispy/contracts";
import { migrateSchema } from "@crispy/storage";
import type { CountedMessage } from "./context-window";

type Role = MessageRecord["role"];

type MessageRow = {
  seq: number;
  turn_id: string;
  role: Role;
  content: string;
  tokens: number;
  created_at: number;
  /** JSON array of an assistant message's tool calls, else null. */
  tool_calls: string | null;
  tool_call_id: string | null;
};

export interface NewMessage {
  role: Role;
  content: string;
  tokens: number;
  toolCalls?: ToolCall[];
  toolCallId?: string;
}

export interface SessionRecord {
  tenantId: string;
  sessionId: string;
  /** Epoch ms after which the session is deleted. */
  expiresAt: number;
}

function recordOf(row: MessageRow): MessageRecord {
  return {
    seq: row.seq,
    turnId: row.turn_id,
    role: row.role,
    content: row.content,
    tokens: row.tokens,
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.tool_calls !== null ? { toolCalls: JSON.parse(row.tool_calls) as ToolCall[] } : {}),
    ...(row.tool_call_id !== null ? { toolCallId: row.tool_call_id } : {}),
  };
}

export class MessageStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  /** Whether the tables exist; false after `wipe` until the next use creates them again. */
  #ready = false;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    this.#migrate();
  }

  /** Deletes every row and table (the object's whole storage); the next use creates the tables again. */
  async wipe(): Promise<void> {
    await this.#storage.deleteAll();
    this.#ready = false;
  }

  /** Creates the tables when missing (on construction, and on first use after a wipe). */
  #migrate(): void {
    if (this.#ready) return;
    this.#ready = true;
    migrateSchema(this.#storage, [
      `
        CREATE TABLE messages (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          turn_id TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
          content TEXT NOT NULL,
          tokens INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE session (
          singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
          tenant_id TEXT NOT NULL,
          session_id TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
      `,
      // Tool loops: an assistant message's calls, and which call a tool message answers.
      `
        ALTER TABLE messages ADD COLUMN tool_calls TEXT;
        ALTER TABLE messages ADD COLUMN tool_call_id TEXT;
      `,
    ]);
  }

  /** Which session this is and when it expires; null before its first turn. */
  session(): SessionRecord | null {
    this.#migrate();
    const row = this.#sql
      .exec<{ tenant_id: string; session_id: string; expires_at: number }>(
        "SELECT tenant_id, session_id, expires_at FROM session",
      )
      .toArray()[0];
    return row ? { tenantId: row.tenant_id, sessionId: row.session_id, expiresAt: row.expires_at } : null;
  }

  /** Records which session this is and pushes its expiry to `expiresAt`. */
  saveSession(record: SessionRecord): void {
    this.#migrate();
    this.#sql.exec(
      `INSERT INTO session (singleton, tenant_id, session_id, expires_at) VALUES (1, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET
         tenant_id = excluded.tenant_id,
         session_id = excluded.session_id,
         expires_at = excluded.expires_at`,
      record.tenantId,
      record.sessionId,
      record.expiresAt,
    );
  }

  /**
   * The most recent messages, newest first, for as long as `take` asks for more. Earlier turns'
   * tool calls and results are left out: their final answers carry what the model needs, and a
   * trimmed window could otherwise split a call from its result.
   */
  recent(take: (message: CountedMessage) => boolean): CountedMessage[] {
    this.#migrate();
    const out: CountedMessage[] = [];
    const cursor = this.#sql.exec<Pick<MessageRow, "role" | "content" | "tokens">>(
      "SELECT role, content, tokens FROM messages WHERE role != 'tool' AND tool_calls IS NULL ORDER BY seq DESC",
    );
    for (const row of cursor) {
      const message = { role: row.role, content: row.content, tokens: row.tokens };
      if (!take(message)) break;
      out.push(message);
    }
    return out;
  }

  /**
   * Appends one turn's messages, trims to the newest `maxMessages` and saves the session record
   * (its new expiry), in one transaction.
   */
  commitTurn(turnId: string, messages: readonly NewMessage[], maxMessages: number, session: SessionRecord): void {
    this.#migrate();
    const now = Date.now();
    this.#storage.transactionSync(() => {
      this.saveSession(session);
      for (const message of messages) {
        this.#sql.exec(
          "INSERT INTO messages (turn_id, role, content, tokens, created_at, tool_calls, tool_call_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
          turnId,
          message.role,
          message.content,
          message.tokens,
          now,
          message.toolCalls?.length ? JSON.stringify(message.toolCalls) : null,
          message.toolCallId ?? null,
        );
      }
      this.#sql.exec(
        `DELETE FROM messages WHERE seq NOT IN
           (SELECT seq FROM messages ORDER BY seq DESC LIMIT ?)`,
        maxMessages,
      );
    });
  }

  /** Messages after `afterSeq`, oldest first; one more than `limit` tells whether more follow. */
  page(afterSeq: number, limit: number): { items: MessageRecord[]; more: boolean } {
    this.#migrate();
    const rows = this.#sql
      .exec<MessageRow>("SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit + 1)
      .toArray();
    return { items: rows.slice(0, limit).map(recordOf), more: rows.length > limit };
  }

  count(): number {
    this.#migrate();
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n;
  }

  /** Deletes every message (the session itself stays). */
  clear(): void {
    this.#migrate();
    this.#sql.exec("DELETE FROM messages");
  }
}
