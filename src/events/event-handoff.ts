import type { Logger } from "pino";
import type { FaultHook } from "../fault-points.ts";
import { createDeferredBatch } from "../redis/deferred-batch.ts";
import { startPeriodicTask, type PeriodicTask } from "../resilience/periodic-task.ts";
import type { EventStore } from "./event-store.ts";
import type { AcceptedEvent, CompanionValues, HandOff, PlannedHandOff } from "./hub-event.ts";

export interface EventHandOffOptions {
  store: EventStore;
  /** Delivery's fan-out (the port src/app.ts wires). */
  deliver: HandOff;
  /** A mark older than this belongs to a hand-off that did not finish (its process died). */
  graceMs: number;
  logger: Logger;
  faults?: FaultHook;
  /** Cleared marks are sent in one command at most this often. @defaultValue 50 */
  flushMs?: number;
  /** Events handed over again per recovery round. @defaultValue 200 */
  batchSize?: number;
}

export interface EventHandOff {
  /**
   * Hands a newly stored event to delivery (through its plan, when delivery planned one before the
   * event was stored, with what the plan's reads found); its mark is cleared soon after, in a batch.
   */
  handOff(accepted: AcceptedEvent, planned?: PlannedHandOff, values?: CompanionValues): Promise<void>;
  /** Starts handing over what a dead process left marked: at once, then every half grace period. */
  start(): void;
  /** Stops recovery and sends the cleared marks still waiting. Idempotent. */
  close(): Promise<void>;
}

/**
 * The step between the event store and delivery. An event is stored with a hand-off mark (one
 * round trip, src/events/lua/accept-event.lua, which also writes the delivery records delivery
 * planned); delivery then queues its jobs (writing its records first when it planned none); the
 * mark is cleared afterwards, batched, since a mark left behind costs only a redundant, idempotent
 * hand-off. Whatever a crash leaves marked is handed over again by any process once it is older
 * than the grace period.
 */
export function createEventHandOff({ store, deliver, graceMs, logger, faults, flushMs = 50, batchSize = 200 }: EventHandOffOptions): EventHandOff {
  let recovery: PeriodicTask | undefined;
  let closed = false;

  // A mark that could not be cleared is handed over again later (idempotent), so it is only logged.
  const cleared = createDeferredBatch<string>(
    (ids) => store.handedOff(ids).catch((error: unknown) => logger.warn({ err: error, events: ids.length }, "could not clear hand-off marks; they will be handed over again")),
    flushMs,
  );

  const recoverOnce = async (): Promise<void> => {
    for (;;) {
      const { ids, events } = await store.pendingHandOffs(Date.now() - graceMs, batchSize);
      if (ids.length === 0) return;
      logger.warn({ events: ids.length }, "handing over events whose hand-off did not finish (a process stopped)");
      await deliver(events, { recovering: true });
      await store.handedOff(ids);
      if (ids.length < batchSize || closed) return;
    }
  };

  return {
    async handOff(accepted, planned, values) {
      await faults?.("event.stored");
      await (planned ? planned.handOff(values) : deliver([accepted]));
      await faults?.("delivery.queued");
      cleared.add([accepted.event.id]);
    },
    start() {
      recovery ??= startPeriodicTask(recoverOnce, Math.max(50, graceMs / 2), logger, "hand-off recovery");
    },
    async close() {
      if (closed) return;
      closed = true;
      await recovery?.close();
      await cleared.flush();
    },
  };
}
