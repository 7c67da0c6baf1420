import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import type { BehaviorSink, BehaviorSource } from "../../src/sessions/behavior-source.ts";
import { createNatsSource, type NatsSourceOptions } from "../../src/sessions/sources/nats-source.ts";
import { eventually } from "../helpers/test-hub.ts";

const NATS_URL = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222";
const run = randomUUID().slice(0, 8);
const logger = pino({ level: "silent" });
let nc: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];

/** Stands for the sessions module: records every batch, and rejects while told to. */
function testSink(): { sink: BehaviorSink; items: string[]; rejected: string[]; reject: boolean } {
  const state = { items: [] as string[], rejected: [] as string[], reject: false, sink: undefined as unknown as BehaviorSink };
  state.sink = async (batch) => {
    const texts = batch.map((item) => (typeof item === "string" ? item : new TextDecoder().decode(item)));
    if (state.reject) {
      state.rejected.push(...texts);
      throw new Error("sessions unavailable (test)");
    }
    state.items.push(...texts);
  };
  return state;
}

/** A subject and stream of their own per test; the stream is deleted in `after`. */
function names(label: string): Pick<NatsSourceOptions, "subject" | "stream" | "durable"> {
  const stream = `KEFU_TEST_${label}_${run}`;
  streams.push(stream);
  return { subject: `kefu.test.${run}.${label}`, stream, durable: `test-${label}` };
}

function source(n: Pick<NatsSourceOptions, "subject" | "stream" | "durable">, extra: Partial<NatsSourceOptions> = {}): BehaviorSource {
  return createNatsSource({ url: NATS_URL, logger, backoffMs: 100, maxBackoffMs: 200, ...n, ...extra });
}

async function publish(subject: string, ...items: string[]): Promise<void> {
  const js = jetstream(nc);
  for (const item of items) await js.publish(subject, item);
}

before(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
});

after(async () => {
  for (const stream of streams) await jsm.streams.delete(stream).catch(() => false);
  await nc.close();
});

test("delivers what was published before and after start", async () => {
  const n = names("deliver");
  const sink = testSink();
  const nats = source(n);
  await jsm.streams.add({ name: n.stream ?? "", subjects: [n.subject] });
  await publish(n.subject, "before-1", "before-2");
  try {
    await nats.start(sink.sink);
    assert.equal(nats.status(), "ok");
    await publish(n.subject, "after-1");
    await eventually(() => sink.items.length >= 3, 5000, "three items");
    assert.deepEqual(sink.items, ["before-1", "before-2", "after-1"]);
  } finally {
    await nats.close();
  }
});

test("creates a missing stream covering the subject", async () => {
  const n = names("create");
  const sink = testSink();
  const nats = source(n);
  try {
    await nats.start(sink.sink);
    const info = await jsm.streams.info(n.stream ?? "");
    assert.deepEqual(info.config.subjects, [n.subject]);
    await publish(n.subject, "one");
    await eventually(() => sink.items.length === 1, 5000, "the item");
  } finally {
    await nats.close();
  }
});

test("a rejected batch is not acknowledged and is redelivered after the backoff", async () => {
  const n = names("reject");
  const sink = testSink();
  sink.reject = true;
  const nats = source(n);
  try {
    await nats.start(sink.sink);
    await publish(n.subject, "r-1", "r-2");
    await eventually(() => sink.rejected.length >= 2, 5000, "the rejected items");
    await eventually(() => sink.rejected.length >= 4, 5000, "a redelivery while the sink still rejects");
    sink.reject = false;
    await eventually(() => sink.items.length >= 2, 5000, "the redelivered items");
    assert.deepEqual([...new Set(sink.items)].sort(), ["r-1", "r-2"]);
    await eventually(async () => {
      const info = await jsm.consumers.info(n.stream ?? "", n.durable ?? "");
      return info.num_ack_pending === 0 && info.num_pending === 0;
    }, 5000, "every item acknowledged");
  } finally {
    await nats.close();
  }
});

test("a second instance with the same durable, after close() of the first, gets only what was not acknowledged", async () => {
  const n = names("handover");
  const first = testSink();
  // Short ack-wait: a redelivery that the server hands to the closing instance's last pull request
  // just before it goes (seen here: the nak-delayed item) is lost in flight and comes back only after
  // ack-wait. At-least-once still holds; the wait is what this test would otherwise time out on.
  const one = source(n, { ackWaitMs: 1000 });
  await one.start(first.sink);
  await publish(n.subject, "acked-1", "acked-2", "acked-3");
  await eventually(() => first.items.length === 3, 5000, "the first three items");
  first.reject = true;
  await publish(n.subject, "open-1", "open-2");
  await eventually(() => first.rejected.length >= 2, 5000, "the rejected items");
  await one.close();

  const second = testSink();
  const two = source(n);
  try {
    await two.start(second.sink);
    await eventually(() => second.items.length >= 2, 5000, "the unacknowledged items");
    // Nothing is pending or awaiting an ack any more, so nothing else can arrive: no sleep needed.
    await eventually(async () => {
      const info = await jsm.consumers.info(n.stream ?? "", n.durable ?? "");
      return info.num_ack_pending === 0 && info.num_pending === 0;
    }, 5000, "the consumer drained");
    assert.deepEqual([...new Set(second.items)].sort(), ["open-1", "open-2"]);
  } finally {
    await two.close();
  }
});

test("an unreachable server degrades the source; start does not throw and close is prompt", async () => {
  const nats = createNatsSource({ url: "nats://127.0.0.1:1", subject: `kefu.test.${run}.none`, logger, backoffMs: 100 });
  try {
    await nats.start(testSink().sink);
    assert.notEqual(nats.status(), "ok");
    assert.match(nats.status(), /^disconnected: /);
  } finally {
    const closing = performance.now();
    await nats.close();
    assert.ok(performance.now() - closing < 1000);
    assert.equal(nats.status(), "closed");
  }
});
