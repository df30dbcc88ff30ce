/**
 * The SSE body of a streamed search. Every event has `id: <n>` (1, 2, …) and JSON data:
 * - `event: sources` — first, once: the passages the answer may cite.
 * - `event: token` — `{ token }` per piece of the answer; a piece that introduces a citation
 *   number also carries `cites: [{ n, docId, chunkId }]`.
 * - `event: done` — last: `{ found, cached, model, sources }` (the checked, renumbered sources).
 * - `event: error` — instead of `done` when the answer failed: `{ code, message }`.
 *
 * Invariants:
 * - Every frame is written at once (no buffering), so tokens reach the reader as they arrive.
 * - After `done`, `error` or the reader's cancel nothing more is written; a cancel is reported
 *   once to `onCancel` (which aborts the model call), noticed at the next write.
 */
import type { ErrorCode, SearchSource } from "@crispy/contracts";

export interface CiteMark {
  n: number;
  docId: string;
  chunkId: string;
}

export interface SearchDone {
  found: boolean;
  cached: boolean;
  model: string;
  sources: SearchSource[];
}

const encoder = new TextEncoder();

export class SearchEventStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onCancel: () => void;
  #open = true;
  #id = 0;

  constructor(onCancel: () => void = () => undefined) {
    this.#onCancel = onCancel;
    // A native stream, not `new ReadableStream({ cancel })`: across RPC, workerd does not run a
    // JS source's cancel when the receiver cancels, but it does error a native pipe's writer on
    // the next write (as in workers/chat/src/sse.ts).
    const pipe = new IdentityTransformStream();
    this.body = pipe.readable as ReadableStream<Uint8Array>;
    this.#writer = pipe.writable.getWriter();
    this.#writer.closed.catch(() => this.#readerGone());
  }

  /** Whether the reader is still there (no cancel, no end yet). */
  get open(): boolean {
    return this.#open;
  }

  sources(sources: SearchSource[]): void {
    this.#event("sources", { sources });
  }

  token(token: string, cites: CiteMark[] = []): void {
    if (token === "" && cites.length === 0) return;
    this.#event("token", cites.length > 0 ? { token, cites } : { token });
  }

  /** Ends the stream after a complete answer. */
  done(done: SearchDone): void {
    this.#end("done", done);
  }

  /** Ends the stream after a failure. */
  error(code: ErrorCode, message: string): void {
    this.#end("error", { code, message });
  }

  #event(name: string, data: unknown): void {
    if (!this.#open) return;
    const frame = `id: ${++this.#id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    this.#writer.write(encoder.encode(frame)).catch(() => this.#readerGone());
  }

  #end(name: string, data: unknown): void {
    if (!this.#open) return;
    this.#event(name, data);
    this.#open = false;
    this.#writer.close().catch(() => undefined);
  }

  #readerGone(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#onCancel();
  }
}
