/**
 * A promise-chain mutex: tasks passed to `run` execute one at a time, in the order `run` was
 * called. A ChatSession uses one so that turns on a session never interleave (a Durable Object
 * delivers new calls while an earlier one awaits I/O, so the object alone does not serialise them).
 *
 * Invariants: a task starts only after every earlier task has settled; a task that throws or
 * rejects does not break the chain for the tasks after it.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
