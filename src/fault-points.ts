/**
 * The named places on the write paths where a crash leaves Redis in a distinct state; the table in
 * docs/architecture.md says, for each, what Redis then holds and who finishes the work. Tests
 * inject a {@link FaultHook} that throws (or ends the process) at one of them, so that each crash
 * point is reached deterministically rather than by chance timing.
 */
export const FAULT_POINTS = [
  /** The event record, its hand-off mark and its planned delivery records are stored; no job is queued. */
  "event.stored",
  /** Delivery records (and ordering lists) are written; their jobs are not queued yet. */
  "delivery.recorded",
  /** The jobs are queued; the event's hand-off mark is not yet cleared. */
  "delivery.queued",
  /** The webhook was POSTed and answered; the attempt is not recorded yet. */
  "attempt.sent",
  /** An ordered delivery finished and its key moved on; the next one's job is not queued yet. */
  "order.advanced",
  /** Behaviour events are folded into their sessions (durably); their source has not acknowledged them. */
  "behavior.applied",
  /** An inbound delivery is verified; nothing of it is stored yet (the provider gets no 2xx and retries). */
  "inbound.verified",
  /** An inbound delivery is stored (and answered 2xx); its transform has not run. */
  "inbound.stored",
  /** An inbound delivery's events are ingested; the delivery is not yet marked processed. */
  "inbound.transformed",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Called at each fault point; production passes none. */
export type FaultHook = (point: FaultPoint) => void | Promise<void>;
