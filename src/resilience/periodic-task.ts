import type { Logger } from "pino";

export interface PeriodicTask {
  /** Stops the schedule and waits for a round in progress. Idempotent. */
  close(): Promise<void>;
}

/**
 * Runs `round` now and then `everyMs` after each round ends (never two at once). A failing round
 * is logged and the next one runs as planned: recovery loops must outlive a Redis outage.
 */
export function startPeriodicTask(round: () => Promise<void>, everyMs: number, logger: Logger, what: string): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  const schedule = (delayMs: number): void => {
    if (closed) return;
    timer = setTimeout(() => {
      running = round()
        .catch((error: unknown) => logger.error({ err: error }, `${what} failed; retrying`))
        .finally(() => schedule(everyMs));
    }, delayMs);
  };
  schedule(0);
  return {
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
