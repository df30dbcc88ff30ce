/**
 * The one rule for every URL a tenant or a client can store (a document's `url`, a tool's
 * endpoint, a remote MCP server): absolute `http:` or `https:` only — never `javascript:`, `data:`,
 * `file:` or anything else a browser or a fetch would treat specially.
 */
export const HTTP_URL_MESSAGE = "must be an absolute http:// or https:// URL";

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}
