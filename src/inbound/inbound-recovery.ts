import type { Logger } from "pino";
import { startPeriodicTask, type PeriodicTask } from "../resilience/periodic-task.ts";
import type { InboundProcessor } from "./inbound-processor.ts";
import type { RawDeliveryStore } from "./raw-delivery-store.ts";

export interface InboundRecoveryOptions {
  store: RawDeliveryStore;
  process: InboundProcessor;
  /** A received delivery not taken up for this long belongs to a process that stopped (or failed to reach Redis). */
  graceMs: number;
  logger: Logger;
  /** @defaultValue 50 */
  batchSize?: number;
}

/**
 * Runs the transform again for what was stored and answered 2xx but never processed: at once on
 * start, then every half grace period, in every instance. A delivery is taken up atomically
 * (lua/claim-delivery.lua), so two instances do not run it together; should a run outlast the
 * grace period, the event ids (from the delivery id) make a second run harmless.
 */
export function startInboundRecovery({ store, process, graceMs, logger, batchSize = 50 }: InboundRecoveryOptions): PeriodicTask {
  const round = async (): Promise<void> => {
    const staleBeforeMs = Date.now() - graceMs;
    const ids = await store.pendingBefore(staleBeforeMs, batchSize);
    if (ids.length === 0) return;
    logger.warn({ deliveries: ids.length }, "inbound: transforming deliveries that were stored but not processed (a process stopped)");
    for (const id of ids) await process(id, { staleBeforeMs });
  };
  return startPeriodicTask(round, Math.max(50, graceMs / 2), logger, "inbound recovery");
}
