/**
 * Test helpers: read fixtures, serve bytes as a pull-based ReadableStream cut into reads of given
 * sizes (so events split mid-line and mid-UTF-8-character), notice when a consumer cancels the
 * stream, and collect async iterables.
 */
import { readFileSync } from "node:fs";

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixture(name));
}

/** The byte chunks `text` is served in: read sizes cycle through `sizes`. */
export function cut(text: string, sizes: readonly number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(bytes.slice(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Whether some cut falls inside a multi-byte UTF-8 character (the next read starts mid-character). */
export function cutsACharacter(chunks: readonly Uint8Array[]): boolean {
  return chunks.slice(1).some((chunk) => ((chunk[0] ?? 0) & 0xc0) === 0x80);
}

/** Whether some cut falls inside a line (a read that does not end with "\n"). */
export function cutsALine(chunks: readonly Uint8Array[]): boolean {
  return chunks.slice(0, -1).some((chunk) => chunk[chunk.length - 1] !== 0x0a);
}

export interface ServedStream {
  stream: ReadableStream<Uint8Array>;
  /** True once the consumer cancelled the stream. */
  cancelled(): boolean;
  /** How many chunks the consumer pulled. */
  pulled(): number;
}

export function serve(chunks: readonly Uint8Array[]): ServedStream {
  let index = 0;
  let wasCancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
      cancel() {
        wasCancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, cancelled: () => wasCancelled, pulled: () => index };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Collects until the iterable throws; returns what came before and the error. */
export async function collectUntilError<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

export function textOf(events: ReadonlyArray<{ type: string; text?: string }>): string {
  return events.map((event) => (event.type === "token" ? event.text : "")).join("");
}
