/**
 * Runs the loads of one plugin one after another (a file watcher and `POST …/reload` may ask at
 * once), while loads of different plugins run side by side.
 */
export class LoadQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier `work` of `name` has settled; answers its result. */
  run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(name) ?? Promise.resolve()).then(work);
    // The tail only orders the next load; the caller of `run` sees this load's failure.
    this.#tails.set(name, run.catch(() => undefined));
    return run;
  }
}
