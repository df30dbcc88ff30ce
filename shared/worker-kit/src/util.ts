/**
 * Small helpers every worker needs, with no runtime dependency (they run in workerd and in Node,
 * e.g. in the benchmark harness): hashing, base64url, and the message of anything thrown.
 */

const encoder = new TextEncoder();

/** SHA-256 of a string's UTF-8 bytes. */
export async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** Lowercase hex of bytes. */
export function hex(bytes: ArrayBuffer | Uint8Array): string {
  let out = "";
  for (const byte of bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))
    out += byte.toString(16).padStart(2, "0");
  return out;
}

/** SHA-256 of a string's UTF-8 bytes, as 64 lowercase hex characters. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await sha256(text));
}

/** Unpadded base64url (RFC 4648 §5) of bytes. */
export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  let binary = "";
  for (const byte of bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** `n` random bytes as unpadded base64url. */
export function randomToken(n: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** The message of anything thrown: an Error's message, a string as is, anything else as JSON. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** A caller-given id fit for an error message: the string cut to `max` characters, else its type. */
export function idForMessage(value: unknown, max = 64): string {
  return typeof value === "string" ? value.slice(0, max) : `(a ${value === null ? "null" : typeof value})`;
}
