/**
 * A behaviour-event source: something that reads customer-behaviour events from a stream (Redis
 * Streams, NATS JetStream, Kafka, …) and hands them to the sessions module. Adding a source (e.g.
 * RabbitMQ) is one file that implements this interface; src/sessions/sessions-module.ts starts it.
 */
export interface BehaviorSource {
  /** The `source` label of `kefu_behavior_events_total` and the key in `/readyz`, e.g. `redis-stream`. */
  readonly name: string;
  /**
   * Connects and starts consuming in the background. Resolves once it consumes (or has started
   * reconnecting with backoff: a source that cannot reach its broker degrades the hub, it does not
   * stop its start).
   */
  start(sink: BehaviorSink): Promise<void>;
  /** `"ok"`, or why it does not consume right now (shown as degraded in `/readyz`). */
  status(): string;
  /** Stops consuming; what was handed to the sink and not yet acknowledged is redelivered later. Idempotent. */
  close(): Promise<void>;
}

/**
 * Applies a batch of raw behaviour events (each the JSON text of one envelope
 * `{id, customerId, type, occurredAt, data}`, as bytes or a string). It resolves once every item is
 * settled: applied durably, or filtered, a duplicate, or invalid (counted and dead-lettered). Only
 * then may the source acknowledge the items. It rejects when their effect could not be made durable
 * (e.g. Redis is unavailable): the source must not acknowledge them, and should redeliver them
 * after a backoff. Items are applied in the order given.
 */
export type BehaviorSink = (items: readonly (string | Uint8Array)[]) => Promise<void>;
