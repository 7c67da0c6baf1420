import type { Logger } from "pino";
import type { FaultHook } from "../fault-points.ts";
import { HubError, isHubError } from "../http/errors.ts";
import type { InboundSource } from "./inbound-source.ts";
import type { FreshDelivery, RawDeliveryStore } from "./raw-delivery-store.ts";
import { parseBody } from "./request-body.ts";
import { completeOutput, type InboundBehavior, type InboundHubEvent, type OutputValidators, type TransformOutput } from "./transform-output.ts";
import { createTurnBatch } from "./turn-batch.ts";
import { openBody } from "./verifiers/index.ts";

/** The ports src/app.ts wires: the plugin host, events' ingest, sessions' behaviour intake. */
export interface InboundPorts {
  /** Runs `inbound(input)` of the named transform plugin in the sandbox (validated against its kind's schema). */
  transform: (plugin: string, input: { source: string; headers: Record<string, string>; body: unknown }) => Promise<TransformOutput | null>;
  /**
   * Ingests like POST /v1/events, several events in one round trip (in order): each is durable once
   * the call resolves; the same id twice is accepted once. One outcome per event.
   */
  ingestMany: (events: readonly InboundHubEvent[]) => Promise<IngestOutcome[]>;
  /** Folds behaviour events into the customer's open sessions; the same id twice is applied once. */
  behavior: (source: string, items: readonly InboundBehavior[]) => Promise<unknown>;
}

/** One event's outcome of `ingestMany`: a reused id (idempotency_conflict) fails only its own event. */
export type IngestOutcome = { ok: true; value: { id: string; duplicate: boolean } } | { ok: false; error: unknown };

export interface InboundProcessorOptions extends InboundPorts {
  store: RawDeliveryStore;
  sourceOf: (name: string) => Promise<InboundSource | undefined>;
  validators: OutputValidators;
  logger: Logger;
  faults?: FaultHook;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * The failures that are the delivery's or its plugin's (kept as a dead letter until an admin
 * fixes the plugin and replays it). Anything else — Redis away, the hub stopping — leaves the
 * delivery received, for recovery to retry.
 */
const DEAD_CODES = new Set(["plugin_error", "plugin_output_invalid", "plugin_timeout", "plugin_unavailable", "plugin_ambiguous", "validation_failed", "idempotency_conflict", "not_found", "malformed_json", "unsupported_media_type"]);

export type ProcessOutcome = { status: "processed"; events: string[]; behaviorEvents: number } | { status: "dead"; error: string } | { status: "retry"; error: string };

export interface ProcessOptions {
  /** Recovery: run only if no instance took the delivery up since then (else answers undefined). */
  staleBeforeMs?: number;
  /**
   * The delivery just stored by this process: neither read back nor taken up (its pending score
   * is its receipt time, so recovery leaves it alone for a grace period anyway).
   */
  fresh?: FreshDelivery;
}

export type InboundProcessor = (id: string, options?: ProcessOptions) => Promise<ProcessOutcome | undefined>;

/**
 * After the 2xx: a stored delivery through its source's transform plugin into hub events and
 * behaviour events. Every step is idempotent (event ids come from the delivery id), so recovery and
 * replay may run it again after a crash at any point.
 */
export function createInboundProcessor(options: InboundProcessorOptions): InboundProcessor {
  const { store, sourceOf, validators, logger, faults, now = Date.now } = options;
  // The events of every delivery transformed in one turn go to events' ingest together.
  const ingestTogether = createTurnBatch<InboundHubEvent, IngestOutcome>((events) => options.ingestMany(events));
  const ingest = async (event: InboundHubEvent): Promise<string> => {
    const outcome = await ingestTogether(event);
    if (!outcome.ok) throw outcome.error;
    return outcome.value.id;
  };

  const run = async (delivery: FreshDelivery): Promise<{ events: string[]; behaviorEvents: number }> => {
    await faults?.("inbound.stored");
    const source = await sourceOf(delivery.source);
    if (!source) throw new HubError("not_found", `inbound source ${delivery.source} was deleted; create it again and replay the delivery`);
    const body = openBody(source.verifier, delivery.body);
    const output = await options.transform(source.transform.plugin, { source: source.name, headers: delivery.headers, body });
    const { events, behavior } = completeOutput(output, { deliveryId: delivery.id, source: source.name, receivedAt: delivery.receivedAt }, validators);
    // In order: a plugin that emits order.updated then ticket.created means that order.
    const ids: string[] = [];
    for (const event of events) ids.push(await ingest(event));
    if (behavior.length > 0) await options.behavior(source.name, behavior);
    await faults?.("inbound.transformed");
    return { events: ids, behaviorEvents: behavior.length };
  };

  /** The delivery from Redis, its body parsed again (recovery and replay). */
  const load = async (id: string): Promise<FreshDelivery | undefined> => {
    const stored = await store.get(id);
    if (!stored) return undefined;
    return { id, source: stored.source, headers: stored.headers, receivedAt: stored.receivedAt, body: parseBody(stored.raw, stored.contentType) };
  };

  return async (id, { staleBeforeMs, fresh } = {}) => {
    if (staleBeforeMs !== undefined && !(await store.claimStale(id, now(), staleBeforeMs))) return undefined;
    if (!fresh && staleBeforeMs === undefined) await store.claim(id, now());
    let source = fresh?.source;
    try {
      const delivery = fresh ?? (await load(id));
      if (!delivery) return { status: "dead", error: `inbound delivery ${id} is gone` };
      source = delivery.source;
      const result = await run(delivery);
      await store.processed(id, result);
      return { status: "processed", ...result };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (isHubError(error) && DEAD_CODES.has(error.code)) {
        logger.warn({ deliveryId: id, source, code: error.code, reason: message }, "inbound transform failed; the delivery is kept as a dead letter");
        await store.dead(id, `${error.code}: ${message}`);
        return { status: "dead", error: message };
      }
      logger.error({ err: error, deliveryId: id, source }, "inbound delivery could not be processed now; recovery retries it");
      return { status: "retry", error: message };
    }
  };
}
