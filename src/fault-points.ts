/**
 * The named places on the write paths where a crash leaves Redis in a distinct state; the table in
 * docs/architecture.md says, for each, what Redis then holds and who finishes the work. Tests
 * inject a {@link FaultHook} that throws (or ends the process) at one of them, so that each crash
 * point is reached deterministically rather than by chance timing.
 */
export const FAULT_POINTS = [
  /** The event record and its hand-off mark are stored; delivery has not been told. */
  "event.stored",
  /** Delivery records (and ordering lists) are written; their jobs are not queued yet. */
  "delivery.recorded",
  /** The jobs are queued; the event's hand-off mark is not yet cleared. */
  "delivery.queued",
  /** The webhook was POSTed and answered; the attempt is not recorded yet. */
  "attempt.sent",
  /** An ordered delivery finished and its key moved on; the next one's job is not queued yet. */
  "order.advanced",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Called at each fault point; production passes none. */
export type FaultHook = (point: FaultPoint) => void | Promise<void>;
