/**
 * The SSE body of a streamed search. Every event has `id: <n>` (1, 2, …) and JSON data:
 * - `event: sources` — first, once: the passages the answer may cite.
 * - `event: token` — `{ token }` per piece of the answer; a piece that introduces a citation
 *   number also carries `cites: [{ n, docId, chunkId }]`.
 * - `event: done` — last: `{ found, cached, model, sources }` (the checked, renumbered sources).
 * - `event: error` — instead of `done` when the answer failed: `{ code, message }`.
 *
 * The bytes go through the kit's SseWriter: frames are written at once (no buffering), and after
 * `done`, `error` or the reader's cancel nothing more is written; a cancel is reported once to
 * `onCancel` (which aborts the model call), noticed at the next write.
 */
import type { ErrorCode, SearchSource } from "@crispy/contracts";
import { SseWriter, sseFrame } from "@crispy/worker-kit";

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

export class SearchEventStream {
  readonly #writer: SseWriter;
  #id = 0;

  constructor(onCancel: () => void = () => undefined) {
    this.#writer = new SseWriter({ onCancel });
  }

  get body(): ReadableStream<Uint8Array> {
    return this.#writer.body;
  }

  /** Whether the reader is still there (no cancel, no end yet). */
  get open(): boolean {
    return this.#writer.open;
  }

  sources(sources: SearchSource[]): void {
    this.#writer.write(this.#frame("sources", { sources }));
  }

  token(token: string, cites: CiteMark[] = []): void {
    if (token === "" && cites.length === 0) return;
    this.#writer.write(this.#frame("token", cites.length > 0 ? { token, cites } : { token }));
  }

  /** Ends the stream after a complete answer. */
  done(done: SearchDone): void {
    this.#writer.end(this.#frame("done", done));
  }

  /** Ends the stream after a failure. */
  error(code: ErrorCode, message: string): void {
    this.#writer.end(this.#frame("error", { code, message }));
  }

  #frame(name: string, data: unknown): string {
    return this.#writer.open ? sseFrame(data, name, ++this.#id) : "";
  }
}
