/**
 * HTTP tools' auth secrets at rest: AES-256-GCM (WebCrypto) under the worker secret
 * TOOLS_SECRET_KEY (base64 of 32 bytes), a random 12-byte IV per secret, and the tenant id + tool
 * name as additional authenticated data — so a ciphertext copied to another tenant's row, or to
 * another tool, does not decrypt. Sealed form: `v1.<iv base64url>.<ciphertext+tag base64url>`.
 *
 * Invariants: plaintext secrets exist only in memory, on their way into `seal` or out of `open`
 * into a request header; nothing here logs. A missing or malformed key fails only the operations
 * that need it, with a message naming TOOLS_SECRET_KEY.
 */
import { fail, ok, type RpcResult } from "@crispy/contracts";
import { base64url } from "@crispy/worker-kit/util";

const VERSION = "v1";
const encoder = new TextEncoder();

/** Whose secret it is: bound into the ciphertext as additional authenticated data. */
export interface SecretOwner {
  tenantId: string;
  tool: string;
}

let cached: { raw: string; key: Promise<CryptoKey> } | null = null;

/** The AES-GCM key TOOLS_SECRET_KEY encodes, or why there is none. */
export async function secretKeyFrom(raw: string | undefined): Promise<RpcResult<CryptoKey>> {
  if (raw === undefined || raw === "") {
    return fail(
      "internal",
      "TOOLS_SECRET_KEY is not set on crispy-tools, so HTTP tool secrets cannot be stored or used " +
        "(set it to base64 of 32 random bytes: `wrangler secret put TOOLS_SECRET_KEY`; pnpm dev writes one)",
    );
  }
  const bytes = decodeBase64(raw);
  if (bytes?.length !== 32) {
    return fail(
      "internal",
      `TOOLS_SECRET_KEY on crispy-tools must be base64 of exactly 32 bytes (it decodes to ${bytes ? `${bytes.length} bytes` : "nothing: not base64"})`,
    );
  }
  if (cached?.raw !== raw) {
    const key = crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    cached = { raw, key };
  }
  return ok(await cached.key);
}

/** Encrypts `secret` for `owner`. */
export async function sealSecret(key: CryptoKey, secret: string, owner: SecretOwner): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(owner) },
    key,
    encoder.encode(secret),
  );
  return `${VERSION}.${base64url(iv)}.${base64url(sealed)}`;
}

/** The secret sealed for `owner`, or null when it was altered, moved, or sealed under another key. */
export async function openSecret(key: CryptoKey, sealed: string, owner: SecretOwner): Promise<string | null> {
  const [version, ivText, dataText, ...rest] = sealed.split(".");
  if (version !== VERSION || rest.length > 0 || !ivText || !dataText) return null;
  const iv = decodeBase64(ivText);
  const data = decodeBase64(dataText);
  if (iv?.length !== 12 || !data) return null;
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad(owner) }, key, data);
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

function aad(owner: SecretOwner): Uint8Array {
  // Neither a tenant id nor a tool name can contain NUL, so the pair is unambiguous.
  return encoder.encode(`crispy-tools:${VERSION}\u0000${owner.tenantId}\u0000${owner.tool}`);
}

/** Bytes of base64 or base64url text (padding optional), or null when it is neither. */
function decodeBase64(text: string): Uint8Array | null {
  const normal = text.trim().replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(normal) || normal.length % 4 === 1) return null;
  try {
    const binary = atob(normal.padEnd(Math.ceil(normal.length / 4) * 4, "="));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}
