/**
 * Request bodies: read with a hard byte limit that holds whether or not the client sent
 * `content-length` (chunked bodies are counted as they stream in), then parsed and validated
 * once, here at the trust boundary.
 */
import type { z } from "zod";
import { HttpError } from "./errors";

function tooLarge(maxBytes: number): HttpError {
  return new HttpError("payload_too_large", `request body exceeds the limit of ${maxBytes} bytes`, {
    limitBytes: maxBytes,
  });
}

/** The body's bytes, refusing more than `maxBytes` whether or not content-length was sent. */
export async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  if (declared !== null) {
    // The runtime frames the body by its content-length, so it cannot be longer: read it at once
    // (one native copy instead of a read loop); the length is checked again all the same.
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Reads, parses and validates a JSON body; every failure is a 4xx naming what was wrong. */
export async function readJson<S extends z.ZodType>(
  request: Request,
  maxBytes: number,
  schema: S,
): Promise<z.output<S>> {
  const type = request.headers.get("content-type");
  if (type !== null && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new HttpError("unsupported_media_type", `expected content-type application/json, got "${type}"`);
  }
  const bytes = await readLimited(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new HttpError("invalid_json", "request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new HttpError("invalid_json", "request body is empty; expected a JSON object");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new HttpError("invalid_json", `request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    }));
    throw new HttpError("validation_failed", describe(parsed.error.issues[0]!), { issues });
  }
  return parsed.data;
}
