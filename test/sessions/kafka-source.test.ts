import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Consumer, Producer, stringSerializers } from "@platformatic/kafka";
import { pino } from "pino";
import type { BehaviorSink, BehaviorSource } from "../../src/sessions/behavior-source.ts";
import { createKafkaSource, type KafkaSourceOptions } from "../../src/sessions/sources/kafka-source.ts";
import { kcatMissing, startKafkaMock, type KafkaMock } from "../helpers/kafka-mock.ts";
import { eventually } from "../helpers/test-hub.ts";

// librdkafka's mock cluster (through kcat) stands in for Kafka: see docs/behavior-sources.md for
// what that does and does not prove. Every topic and group is new per run; the cluster dies with kcat.
const skip = kcatMissing();
const run = randomUUID().slice(0, 8);
const logger = pino({ level: "silent" });
// The mock delays the first join of a group by 3 s (group.initial.rebalance.delay.ms).
const JOIN_MS = 15_000;
let mock: KafkaMock | undefined;
let producer: Producer<string, string, string, string> | undefined;

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

function source(label: string, extra: Partial<KafkaSourceOptions> = {}): BehaviorSource {
  return createKafkaSource({
    brokers: [mock?.bootstrapServers ?? ""], topic: `kefu-test-${run}-${label}`, groupId: `test-${run}-${label}`,
    // A short fetch wait: the mock holds every fetch for its full wait, even when a message arrives.
    // A 6 s session (Kafka's minimum): after a member leaves, the mock holds the next join for the
    // whole session timeout (a real broker completes it after its initial rebalance delay).
    logger, backoffMs: 100, maxBackoffMs: 200, fetchMaxWaitMs: 100, sessionTimeoutMs: 6000, ...extra,
  });
}

/** All to partition 0 (the mock creates 4), so that their order is one sequence. */
async function publish(label: string, ...items: string[]): Promise<void> {
  await producer?.send({ messages: items.map((value) => ({ topic: `kefu-test-${run}-${label}`, value, partition: 0 })) });
}

/** The group's committed offset on partition 0 (`-1n`: none), read without joining the group. */
async function committedOffset(label: string): Promise<bigint | undefined> {
  const topic = `kefu-test-${run}-${label}`;
  const reader = new Consumer({ clientId: "kefu-test", groupId: `test-${run}-${label}`, bootstrapBrokers: [mock?.bootstrapServers ?? ""] });
  try {
    return (await reader.listCommittedOffsets({ topics: [{ topic, partitions: [0] }] })).get(topic)?.[0];
  } finally {
    await reader.close();
  }
}

before(async () => {
  if (skip !== undefined) return;
  mock = await startKafkaMock();
  producer = new Producer({ clientId: "kefu-test", bootstrapBrokers: [mock.bootstrapServers], serializers: stringSerializers });
});

after(async () => {
  await producer?.close();
  await mock?.close();
});

test("delivers what was published before and after start", { skip }, async () => {
  const sink = testSink();
  const kafka = source("deliver");
  await publish("deliver", "before-1", "before-2");
  try {
    await kafka.start(sink.sink);
    assert.equal(kafka.status(), "ok");
    await publish("deliver", "after-1");
    await eventually(() => sink.items.length >= 3, JOIN_MS, "three items");
    assert.deepEqual(sink.items, ["before-1", "before-2", "after-1"]);
  } finally {
    await kafka.close();
  }
});

test("a rejected batch is not committed and is read again after the backoff", { skip }, async () => {
  const sink = testSink();
  sink.reject = true;
  const kafka = source("reject");
  await publish("reject", "r-1", "r-2");
  try {
    await kafka.start(sink.sink);
    await eventually(() => sink.rejected.length >= 4, JOIN_MS, "the items rejected twice");
    assert.equal(await committedOffset("reject"), -1n, "nothing committed while the sink rejects");
    sink.reject = false;
    await eventually(() => sink.items.length >= 2, JOIN_MS, "the items read again");
    assert.deepEqual(sink.items, ["r-1", "r-2"]);
    await eventually(async () => (await committedOffset("reject")) === 2n, JOIN_MS, "the commit after the sink resolved");
  } finally {
    await kafka.close();
  }
});

test("a second member of the group, after close() of the first, gets only what was not committed", { skip }, async () => {
  const first = testSink();
  const one = source("handover");
  await publish("handover", "committed-1", "committed-2", "committed-3");
  await one.start(first.sink);
  await eventually(() => first.items.length === 3, JOIN_MS, "the first three items");
  first.reject = true;
  await publish("handover", "open-1", "open-2");
  await eventually(() => first.rejected.length >= 2, JOIN_MS, "the rejected items");
  await one.close();

  const second = testSink();
  const two = source("handover");
  try {
    await two.start(second.sink);
    // Partition 0 is read in order: once the sentinel arrives, nothing older can follow it.
    await publish("handover", "sentinel");
    await eventually(() => second.items.includes("sentinel"), JOIN_MS, "the sentinel");
    assert.deepEqual([...new Set(second.items)], ["open-1", "open-2", "sentinel"]);
  } finally {
    await two.close();
  }
});

test("an unreachable broker degrades the source; start does not throw and close is prompt", { skip }, async () => {
  const kafka = createKafkaSource({ brokers: ["127.0.0.1:1"], topic: `kefu-test-${run}-none`, logger, backoffMs: 100, connectionTimeoutMs: 500 });
  try {
    await kafka.start(testSink().sink);
    assert.match(kafka.status(), /^disconnected: /);
  } finally {
    const closing = performance.now();
    await kafka.close();
    assert.ok(performance.now() - closing < 2000);
    assert.equal(kafka.status(), "closed");
  }
});

// Why test/helpers/kafka-mock.ts puts a proxy in front of the mock: without it, the client picks
// ListOffsets v5, whose answer librdkafka 2.0.2's mock misencodes. When this fails, the mock is
// fixed (librdkafka >= 2.1.0) and the proxy can go.
test("the mock itself, without the version-capping proxy, still misencodes ListOffsets v5", { skip }, async () => {
  await publish("unproxied", "x");
  const topic = `kefu-test-${run}-unproxied`;
  const direct = new Consumer({ clientId: "kefu-test", groupId: `test-${run}-unproxied`, bootstrapBrokers: [mock?.brokerAddress ?? ""], retries: 0 });
  try {
    await assert.rejects(direct.listOffsets({ topics: [topic] }), (error: Error) => {
      assert.match(String(error.message), /Listing offsets failed/);
      return true;
    });
    const proxied = new Consumer({ clientId: "kefu-test", groupId: `test-${run}-unproxied`, bootstrapBrokers: [mock?.bootstrapServers ?? ""] });
    try {
      assert.deepEqual((await proxied.listOffsets({ topics: [topic] })).get(topic), [1n, 0n, 0n, 0n]);
    } finally {
      await proxied.close();
    }
  } finally {
    await direct.close();
  }
});

test("a broker that goes away while consuming degrades the source; close is prompt", { skip }, async () => {
  // A mock of its own: this test kills it. A new mock would listen on another port, so the return
  // of the broker is not exercised here.
  const own = await startKafkaMock();
  const topic = `kefu-test-${run}-away`;
  const ownProducer = new Producer({ clientId: "kefu-test", bootstrapBrokers: [own.bootstrapServers], serializers: stringSerializers });
  const sink = testSink();
  const kafka = createKafkaSource({ brokers: [own.bootstrapServers], topic, groupId: `test-${run}-away`, logger, backoffMs: 100, maxBackoffMs: 200, fetchMaxWaitMs: 100, sessionTimeoutMs: 6000 });
  try {
    await ownProducer.send({ messages: [{ topic, value: "before", partition: 0 }] });
    await ownProducer.close();
    await kafka.start(sink.sink);
    await eventually(() => sink.items.length === 1, JOIN_MS, "the item");
    await own.close();
    await eventually(() => kafka.status().startsWith("disconnected: "), JOIN_MS, "the source to report the broker lost");
  } finally {
    const closing = performance.now();
    await kafka.close();
    assert.ok(performance.now() - closing < 2000);
    assert.equal(kafka.status(), "closed");
    await own.close();
  }
});
