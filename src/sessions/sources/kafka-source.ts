import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer, Message, MessagesStream } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { BehaviorSink, BehaviorSource } from "../behavior-source.ts";

export interface KafkaSourceOptions {
  /** Bootstrap brokers, `host:port` each (`KEFU_BEHAVIOR_KAFKA_BROKERS`, comma-separated there). */
  brokers: readonly string[];
  /** Topic holding the behaviour events, one envelope JSON per message value (`KEFU_BEHAVIOR_KAFKA_TOPIC`). */
  topic: string;
  /**
   * Consumer group: hub instances of one group share the partitions; offsets are the group's.
   * @defaultValue `"kefu-hub-sessions"`
   */
  groupId?: string;
  logger: Logger;
  /** Client id sent to the brokers. @defaultValue `"kefu-hub"` */
  clientId?: string;
  /** Most messages handed to the sink at once: what has arrived, up to this many. @defaultValue `500` */
  batchSize?: number;
  /** A new group (no committed offset) starts at the oldest retained message rather than the newest. @defaultValue `true` */
  fromBeginning?: boolean;
  /** First delay after a sink rejection or a failed connect; doubles per failure in a row. @defaultValue `500` */
  backoffMs?: number;
  /** Ceiling of that delay. @defaultValue `10_000` */
  maxBackoffMs?: number;
  /** Group session timeout: a member silent this long loses its partitions. @defaultValue `30_000` */
  sessionTimeoutMs?: number;
  /**
   * How long a fetch waits at the broker for new messages. A broker answers as soon as a message
   * arrives, so this only sets how often an idle consumer asks; librdkafka's mock waits it out.
   * @defaultValue `5_000`
   */
  fetchMaxWaitMs?: number;
  /** TCP connect timeout per broker. @defaultValue `3_000` */
  connectionTimeoutMs?: number;
}

type Settings = Required<KafkaSourceOptions>;
type KafkaRecord = Message<Buffer, Buffer, Buffer, Buffer>;
type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/**
 * A behaviour source over a Kafka consumer group (name `kafka`), on `@platformatic/kafka`. Offsets
 * are committed only after the sink resolved for the batch that ends there; a rejection drops the
 * stream after the backoff and opens a new one, which starts again from the committed offsets.
 */
export function createKafkaSource(options: KafkaSourceOptions): BehaviorSource {
  const s: Settings = {
    groupId: "kefu-hub-sessions", clientId: "kefu-hub", batchSize: 500, fromBeginning: true, backoffMs: 500,
    maxBackoffMs: 10_000, sessionTimeoutMs: 30_000, fetchMaxWaitMs: 5_000, connectionTimeoutMs: 3_000, ...definedOnly(options),
  };
  const log = s.logger.child({ source: "kafka", topic: s.topic, groupId: s.groupId });
  const stopping = new AbortController();
  const stopped = once(stopping.signal, "abort").then(() => undefined);
  const backoff = (failures: number): number => Math.min(s.maxBackoffMs, s.backoffMs * 2 ** Math.max(0, failures - 1));
  let state = "not started";
  let consumer: Consumer | undefined;
  /** True until the consumer has a stream: close() may cut the connect and join short. */
  let joining = false;
  let running: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let sinkFailures = 0;

  // The client is imported by start(): a hub without Kafka configured does not hold it (~15 MB
  // of RSS, docs/benchmarks.md, memory).
  let KafkaConsumer: typeof Consumer | undefined;

  function newConsumer(): Consumer {
    if (!KafkaConsumer) throw new Error("the Kafka behaviour source is not started");
    const c = new KafkaConsumer({
      clientId: s.clientId, bootstrapBrokers: [...s.brokers], groupId: s.groupId, connectTimeout: s.connectionTimeoutMs,
      // Few quick retries inside the client: the loop in `run` is the long-term retry, and it shows in status().
      retries: 2, retryDelay: s.backoffMs,
      sessionTimeout: s.sessionTimeoutMs, heartbeatInterval: Math.min(3_000, Math.floor(s.sessionTimeoutMs / 3)),
      maxWaitTime: s.fetchMaxWaitMs, autocommit: false,
    });
    // The client has no logger (its narration goes to `debug`, off by default); what it reports as
    // events comes through pino, at warn. An 'error' without a listener would throw.
    c.on("error", (error: unknown) => log.warn({ err: error }, "Kafka client error"));
    c.on("consumer:heartbeat:error", ({ error }) => log.warn({ err: error }, "Kafka group heartbeat failed"));
    return c;
  }

  /** Hands one batch to the sink; true when it is committed, false when it must be read again. */
  async function handOver(batch: KafkaRecord[], sink: BehaviorSink): Promise<boolean> {
    const first = batch[0];
    if (first === undefined) return true;
    try {
      await sink(batch.map((m) => m.value ?? new Uint8Array()));
    } catch (error) {
      sinkFailures += 1;
      const delayMs = backoff(sinkFailures);
      log.warn({ err: error, partition: first.partition, offset: String(first.offset), count: batch.length, delayMs }, "behaviour sink rejected a batch; not committed, read again after the delay");
      // The client heartbeats on its own timer: the pause does not cost the group membership.
      await sleep(delayMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      return false;
    }
    sinkFailures = 0;
    // The last message of each partition commits its offset + 1, the next one to read.
    const last = new Map<number, KafkaRecord>();
    for (const m of batch) last.set(m.partition, m);
    try {
      await Promise.all([...last.values()].map((m) => new Promise<void>((resolve, reject) => m.commit((error) => (error ? reject(error) : resolve())))));
    } catch (error) {
      // A rebalance took the partition, or the coordinator is away: the group reads again from the
      // last committed offset, a duplicate that the sink drops by id, never a loss.
      log.warn({ err: error, count: batch.length }, "committing Kafka offsets failed; the batch is read again from the last committed offset");
      return false;
    }
    return true;
  }

  /** What the stream holds now, up to batchSize; waits for the first. Undefined once stopped or ended. */
  async function nextBatch(stream: Stream, ended: Promise<Error | undefined>): Promise<KafkaRecord[] | undefined> {
    for (;;) {
      if (stopping.signal.aborted) return undefined;
      const batch: KafkaRecord[] = [];
      for (let m = stream.read() as KafkaRecord | null; m !== null; m = batch.length < s.batchSize ? (stream.read() as KafkaRecord | null) : null) batch.push(m);
      if (batch.length > 0) return batch;
      const readable = once(stream, "readable").then(() => false);
      const end = await Promise.race([readable, ended.then((error) => error ?? true), stopped.then(() => true)]);
      if (end instanceof Error) throw end;
      if (end) return undefined;
    }
  }

  /** Consumes one stream; true when a batch must be read again through a new stream. */
  async function consumeStream(stream: Stream, sink: BehaviorSink): Promise<boolean> {
    const ended = new Promise<Error | undefined>((resolve) => {
      stream.on("error", (error: Error) => resolve(error));
      stream.once("close", () => resolve(undefined));
    });
    for (let batch = await nextBatch(stream, ended); batch !== undefined; batch = await nextBatch(stream, ended)) {
      if (!(await handOver(batch, sink))) return true;
    }
    if (!stopping.signal.aborted) throw new Error("the Kafka stream ended");
    return false;
  }

  /** One consumer from connect to crash; calls `started` once it consumes or failed. */
  async function attempt(sink: BehaviorSink, started: () => void): Promise<void> {
    const c = newConsumer();
    consumer = c;
    joining = true;
    // Committed offsets first; a partition without one starts at the oldest or the newest message.
    const open = (): Promise<Stream> => c.consume({ topics: [s.topic], mode: "committed", fallbackMode: s.fromBeginning ? "earliest" : "latest", autocommit: false });
    let stream = await open();
    joining = false;
    state = "ok";
    started();
    try {
      while ((await consumeStream(stream, sink)) && !stopping.signal.aborted) {
        // To read a batch again, a new stream starts from the committed offsets. It is opened before
        // the old one closes: the topic stays subscribed throughout, so the group does not rebalance.
        const next = await open();
        await closeStream(stream);
        stream = next;
      }
    } finally {
      await closeStream(stream);
    }
  }

  /** What a stream buffered beyond the last commit is dropped with it: the next stream reads it again. */
  async function closeStream(stream: Stream): Promise<void> {
    await stream.close().catch((error: unknown) => log.warn({ err: error }, "closing the Kafka stream failed"));
  }

  async function run(sink: BehaviorSink, started: () => void): Promise<void> {
    for (let failures = 1; !stopping.signal.aborted; failures += 1) {
      try {
        await attempt(sink, started);
      } catch (error) {
        if (!stopping.signal.aborted) {
          state = `disconnected: ${error instanceof Error ? error.message : String(error)}`;
          log.warn({ err: error, retryInMs: backoff(failures) }, "Kafka behaviour source cannot consume; retrying");
          started();
        }
      }
      // Leaves the group: its partitions move on at once, from the last committed offsets.
      await consumer?.close().catch((error: unknown) => log.warn({ err: error }, "closing the Kafka consumer failed"));
      if (stopping.signal.aborted) break;
      await sleep(backoff(failures), undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  return {
    name: "kafka",
    async start(sink) {
      if (running !== undefined) throw new Error("the Kafka behaviour source is already started");
      KafkaConsumer ??= (await import("@platformatic/kafka")).Consumer;
      // Closed while the client was being imported: nothing to start.
      if (stopping.signal.aborted || running !== undefined) return;
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
        // Connecting or joining: nothing is applied yet, so cut the client's retries short. Once it
        // consumes, `run` finishes the batch in the sink and its commit, then leaves the group.
        if (joining) await consumer?.close(true).catch(() => undefined);
        await running;
      })();
      return closing;
    },
  };
}

/** `{...defaults, ...options}` would let an explicit `undefined` override a default. */
function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}
