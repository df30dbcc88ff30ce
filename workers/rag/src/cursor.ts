/**
 * Opaque cursors for document lists: the position of a page's last document, tagged and
 * base64url-encoded so clients treat it as a token.
 *
 * Invariant: `decodeCursor` returns null for anything `encodeCursor` did not produce.
 */
const TAG = "docs";

export function encodeCursor(position: number): string {
  return btoa(`${TAG}:${position}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The position a cursor stands for, or null when it is malformed or of another kind. */
export function decodeCursor(cursor: string): number | null {
  let text: string;
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  const match = /^([a-z]+):(\d{1,15})$/.exec(text);
  if (!match || match[1] !== TAG) return null;
  return Number(match[2]);
}
