import { setTimeout as sleep } from "node:timers/promises";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { BehaviorSink, BehaviorSource } from "../behavior-source.ts";

export interface NatsSourceOptions {
  /** NATS server(s), e.g. `nats://127.0.0.1:4222` (`KEFU_BEHAVIOR_NATS_URL`); comma-separated for a cluster. */
  url: string;
  /** Subject the behaviour events are published on (`KEFU_BEHAVIOR_NATS_SUBJECT`); wildcards allowed. */
  subject: string;
  /**
   * JetStream stream holding the subject. Created (covering only `subject`) when missing; an
   * existing stream is used as it is.
   * @defaultValue `"KEFU_BEHAVIOR"`
   */
  stream?: string;
  /**
   * Durable pull consumer: every hub instance with the same name shares one cursor, so each event
   * goes to one of them, and a restarted hub resumes where the acknowledged ones end.
   * @defaultValue `"kefu-hub-sessions"`
   */
  durable?: string;
  logger: Logger;
  /** Most events handed to the sink at once (also the pull size). @defaultValue `100` */
  batchSize?: number;
  /**
   * How long the server waits for an ack before redelivering, when the consumer is created. Must
   * exceed the sink's worst latency, or slow batches are delivered twice (still at-least-once).
   * @defaultValue `30_000`
   */
  ackWaitMs?: number;
  /** First delay after a sink rejection or a failed connect; doubles per failure in a row. @defaultValue `500` */
  backoffMs?: number;
  /** Ceiling of that delay; keep it below `ackWaitMs`. @defaultValue `10_000` */
  maxBackoffMs?: number;
  /** How long `close()` waits for a batch that is in the sink before it closes the connection anyway. @defaultValue `5_000` */
  closeTimeoutMs?: number;
}

type Settings = Required<NatsSourceOptions>;

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** A behaviour source over a NATS JetStream durable pull consumer (name `nats`). */
export function createNatsSource(options: NatsSourceOptions): BehaviorSource {
  const s: Settings = {
    stream: "KEFU_BEHAVIOR", durable: "kefu-hub-sessions", batchSize: 100, ackWaitMs: 30_000,
    backoffMs: 500, maxBackoffMs: 10_000, closeTimeoutMs: 5_000, ...definedOnly(options),
  };
  const log = s.logger.child({ source: "nats", subject: s.subject, stream: s.stream, durable: s.durable });
  const stopping = new AbortController();
  let state = "not started";
  let connection: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  const queued: JsMsg[] = [];
  let wake: (() => void) | undefined;
  let running: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const backoff = (failures: number): number => Math.min(s.maxBackoffMs, s.backoffMs * 2 ** Math.max(0, failures - 1));

  /** Connects, makes sure the stream and the consumer exist, and consumes until the source closes. */
  async function session(sink: BehaviorSink, started: () => void): Promise<void> {
    // The client's own reconnect (forever, with jitter) covers a broker that goes away later; the
    // loop in `run` covers the first connect, which the client does not retry.
    const nc = await connect({ servers: s.url.split(","), name: "kefu-hub", maxReconnectAttempts: -1, reconnectTimeWait: s.backoffMs });
    connection = nc;
    void watchStatus(nc);
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, s, log);
    await ensureConsumer(jsm, s, log);
    const consumer = await jetstream(nc).consumers.get(s.stream, s.durable);
    // A callback, not the iterator: what arrived but is not in the sink yet stays in `queued`, where
    // close() can nak it for another instance at once; the iterator drops it on stop(), leaving it
    // to ack-wait. The consumer's max_ack_pending bounds the queue.
    messages = await consumer.consume({ max_messages: s.batchSize, callback: (m) => enqueue(m) });
    if (stopping.signal.aborted) return;
    state = "ok";
    started();
    await consumeBatches(messages, sink);
  }

  function enqueue(m: JsMsg): void {
    queued.push(m);
    wake?.();
  }

  async function consumeBatches(msgs: ConsumerMessages, sink: BehaviorSink): Promise<void> {
    const ended = msgs.closed().then(() => undefined);
    let failures = 0;
    while (!stopping.signal.aborted) {
      if (queued.length === 0) {
        const arrived = new Promise<void>((resolve) => (wake = resolve));
        if ((await Promise.race([arrived.then(() => true), ended.then(() => false)])) === false) return;
        continue;
      }
      // Hand over what is already here rather than wait for a full batch: low latency when quiet.
      failures = await handOver(queued.splice(0, s.batchSize), sink, failures);
    }
  }

  /** Acks after the sink resolved; on a rejection naks with a delay, so the server redelivers then. */
  async function handOver(batch: JsMsg[], sink: BehaviorSink, failures: number): Promise<number> {
    try {
      await sink(batch.map((m) => m.data));
    } catch (error) {
      const delayMs = backoff(failures + 1);
      log.warn({ err: error, count: batch.length, delayMs }, "behaviour sink rejected a batch; not acknowledged, redelivered after the delay");
      for (const m of batch) m.nak(delayMs);
      // Pause too, or the next batches would fail the same way against a sink that is down.
      await sleep(delayMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      return failures + 1;
    }
    for (const m of batch) m.ack();
    return 0;
  }

  async function watchStatus(nc: NatsConnection): Promise<void> {
    for await (const event of nc.status()) {
      if (event.type === "disconnect") state = "disconnected; reconnecting";
      else if (event.type === "reconnect") state = "ok";
      if (event.type === "disconnect" || event.type === "reconnect") log.warn({ event: event.type }, "NATS connection changed");
    }
  }

  async function run(sink: BehaviorSink, started: () => void): Promise<void> {
    for (let failures = 0; !stopping.signal.aborted; ) {
      try {
        await session(sink, started);
        failures = 0;
      } catch (error) {
        failures += 1;
        state = `disconnected: ${error instanceof Error ? error.message : String(error)}`;
        log.warn({ err: error, retryInMs: backoff(failures) }, "NATS behaviour source cannot consume; retrying");
        started();
      } finally {
        await closeConnection();
      }
      await sleep(backoff(failures), undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  async function closeConnection(): Promise<void> {
    const nc = connection;
    connection = undefined;
    messages = undefined;
    // Received but never handed over: back to the server now, not after ack-wait.
    for (const m of queued.splice(0)) m.nak();
    if (nc === undefined || nc.isClosed()) return;
    // flush first: the last acks are still in the outbound buffer, and a lost ack means a redelivery.
    await nc.flush().catch(() => undefined);
    await nc.close().catch((error: unknown) => log.warn({ err: error }, "closing the NATS connection failed"));
  }

  return {
    name: "nats",
    async start(sink) {
      if (running !== undefined) throw new Error("the NATS behaviour source is already started");
      state = "connecting";
      await new Promise<void>((resolve) => {
        running = run(sink, resolve);
      });
    },
    status: () => state,
    close() {
      closing ??= (async () => {
        stopping.abort();
        state = "closed";
        messages?.stop();
        wake?.();
        // unref'd: a batch that finished in time must not leave a timer holding the process open.
        await Promise.race([running, sleep(s.closeTimeoutMs, undefined, { ref: false })]);
        await closeConnection();
      })();
      return closing;
    },
  };
}

async function ensureStream(jsm: JetStreamManager, s: Settings, log: Logger): Promise<void> {
  try {
    await jsm.streams.info(s.stream);
  } catch (error) {
    if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    log.info("creating the JetStream stream for behaviour events");
    await jsm.streams.add({ name: s.stream, subjects: [s.subject] });
  }
}

async function ensureConsumer(jsm: JetStreamManager, s: Settings, log: Logger): Promise<void> {
  try {
    await jsm.consumers.info(s.stream, s.durable);
  } catch (error) {
    if (apiCode(error) !== CONSUMER_NOT_FOUND) throw error;
    log.info("creating the durable JetStream consumer for behaviour events");
    await jsm.consumers.add(s.stream, {
      durable_name: s.durable,
      filter_subject: s.subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: s.ackWaitMs * 1_000_000, // nanoseconds
      max_ack_pending: Math.max(1000, s.batchSize * 10),
    });
  }
}

/** JetStream API errors carry their `err_code` as `code`; matched by value, not by class. */
function apiCode(error: unknown): number | undefined {
  const code: unknown = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "number" ? code : undefined;
}

/** `{...defaults, ...options}` would let an explicit `undefined` override a default. */
function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}
