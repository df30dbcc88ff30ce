/**
 * The byte side of every server-sent-event body a worker returns over RPC (chat turns, streamed
 * search): a frame goes to the reader at once when the reader has taken everything before it;
 * frames written while the reader is still taking the last write are joined and go out as one
 * write the moment it has (so a reader that keeps up gets every frame without delay, and a busy
 * one gets fewer, larger chunks instead of one per frame — never a timer, never awaited, so a
 * slow reader stalls nothing). An optional `: keep-alive` comment goes out whenever `heartbeatMs`
 * passes without a write, and a reader that went away is reported once to `onCancel`.
 *
 * Why a native pipe and not `new ReadableStream({ cancel })`: across RPC, workerd does not run a
 * JS source's cancel when the receiver cancels, but it does error a native pipe's writer on the
 * next write. So a cancel is noticed at the next frame or, while idle, at the next heartbeat.
 *
 * After `end` or a cancel nothing more is written and the heartbeat stops.
 */
const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");

export interface SseWriterOptions {
  /** Send a keep-alive comment after this many idle milliseconds; 0 or absent: never. */
  heartbeatMs?: number;
  /** Called once when the reader is found gone (cancelled or disconnected) before the end. */
  onCancel?: () => void;
}

export class SseWriter {
  readonly body: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onCancel: () => void;
  #open = true;
  /** A write the reader has not taken yet. */
  #inFlight = false;
  /** Frames written meanwhile, sent together when it is taken. */
  #queued = "";
  /** Close once the queued frames are sent. */
  #closing = false;
  #wroteSinceTick = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: SseWriterOptions = {}) {
    this.#onCancel = options.onCancel ?? (() => undefined);
    const pipe = new IdentityTransformStream();
    this.body = pipe.readable as ReadableStream<Uint8Array>;
    this.#writer = pipe.writable.getWriter();
    this.#writer.closed.catch(() => this.#readerGone());
    const heartbeatMs = options.heartbeatMs ?? 0;
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => {
        if (!this.#wroteSinceTick && !this.#inFlight) this.#send(KEEP_ALIVE);
        this.#wroteSinceTick = false;
      }, heartbeatMs);
    }
  }

  /** Whether the reader is still there (no end, no cancel yet). */
  get open(): boolean {
    return this.#open && !this.#closing;
  }

  /** Queues one or more complete frames; an empty string writes nothing. */
  write(frames: string): void {
    if (frames === "" || !this.#open || this.#closing) return;
    this.#wroteSinceTick = true;
    if (this.#inFlight) this.#queued += frames;
    else this.#send(encoder.encode(frames));
  }

  /** Writes the last frames and closes the stream (after what is still queued). */
  end(frames = ""): void {
    if (!this.#open || this.#closing) return;
    this.write(frames);
    this.#closing = true;
    clearInterval(this.#heartbeat);
    if (!this.#inFlight) this.#close();
  }

  #send(bytes: Uint8Array): void {
    if (!this.#open) return;
    this.#inFlight = true;
    this.#writer.write(bytes).then(
      () => this.#taken(),
      () => this.#readerGone(),
    );
  }

  /** The reader took the last write: send what queued meanwhile, or close if ending. */
  #taken(): void {
    this.#inFlight = false;
    if (!this.#open) return;
    if (this.#queued !== "") {
      const frames = this.#queued;
      this.#queued = "";
      this.#send(encoder.encode(frames));
    } else if (this.#closing) {
      this.#close();
    }
  }

  #close(): void {
    this.#stop();
    this.#writer.close().catch(() => undefined);
  }

  #readerGone(): void {
    if (!this.#open) return;
    const ended = this.#closing;
    this.#stop();
    if (!ended) this.#onCancel();
  }

  #stop(): void {
    this.#open = false;
    clearInterval(this.#heartbeat);
  }
}

/** One SSE frame: optional `id`, optional `event`, and `data` as JSON. */
export function sseFrame(data: unknown, event?: string, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}
