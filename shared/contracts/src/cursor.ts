/**
 * Opaque page cursors. A cursor is the position of the last item of a page, tagged with what it
 * pages over (chat history seq, session directory position, document list position, tool
 * execution audit seq, the gateway's admin audit seq),
 * base64url-encoded so clients treat it as a token.
 *
 * Invariant: `decodeCursor` returns null for anything `encodeCursor` did not produce for the same
 * kind, so a cursor from one listing cannot be replayed against another.
 */
export type CursorKind = "history" | "sessions" | "docs" | "executions" | "audit";

export function encodeCursor(kind: CursorKind, position: number): string {
  return btoa(`${kind}:${position}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The position a cursor stands for, or null when it is malformed or of another kind. */
export function decodeCursor(kind: CursorKind, cursor: string): number | null {
  let text: string;
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  const match = /^([a-z]+):(\d{1,15})$/.exec(text);
  if (!match || match[1] !== kind) return null;
  return Number(match[2]);
}

/** What a list RPC takes: an optional cursor and a page size. */
export interface PageRequest {
  cursor?: string;
  limit: number;
}

/**
 * The page asked for as a list method should read it: the limit a whole number within
 * 1..`maxSize` (`defaultSize` when missing or not a number), the cursor only when it is a string.
 * The gateway validated both; this keeps a sibling caller's mistake from becoming a query.
 */
export function pageOf(page: unknown, sizes: { defaultSize: number; maxSize: number }): PageRequest {
  const given = typeof page === "object" && page !== null ? (page as Partial<PageRequest>) : {};
  const limit = Number.isInteger(given.limit) ? given.limit! : sizes.defaultSize;
  const clamped = Math.min(Math.max(limit, 1), sizes.maxSize);
  return typeof given.cursor === "string" ? { cursor: given.cursor, limit: clamped } : { limit: clamped };
}
