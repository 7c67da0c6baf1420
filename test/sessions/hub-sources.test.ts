import assert from "node:assert/strict";
import { test } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Producer, stringSerializers } from "@platformatic/kafka";
import { kcatMissing, startKafkaMock } from "../helpers/kafka-mock.ts";
import { eventually, startTestHub } from "../helpers/test-hub.ts";
import { behavior, getSession, openSession } from "./helpers.ts";

const NATS_URL = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222";

test("the hub consumes behaviour events from NATS JetStream into the open session, and /readyz shows the source", async () => {
  const run = Math.random().toString(36).slice(2, 10);
  const subject = `kefu.test.${run}.behavior`;
  const hub = await startTestHub({ behaviorNatsUrl: NATS_URL, behaviorNatsSubject: subject });
  const nc = await connect({ servers: NATS_URL });
  try {
    await openSession(hub, "S-nats-1", "C-nats-1");
    await eventually(() => getSession(hub, "S-nats-1"));
    await eventually(async () => ((await (await fetch(`${hub.url}/readyz`)).json()) as { checks: Record<string, string> }).checks["sessions"] === "ok", 5000, "the NATS source to be ok");
    const js = jetstream(nc);
    for (const url of ["/a", "/b"]) await js.publish(subject, JSON.stringify(behavior("C-nats-1", "page.viewed", { url })));
    const session = await eventually(async () => {
      const found = await getSession(hub, "S-nats-1");
      return found?.behavior.counters["pageViews30m"] === 2 ? found : undefined;
    }, 5000, "both NATS events to be applied");
    assert.equal(session.behavior.latest["lastPage"], "/b");
  } finally {
    await hub.close();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`KEFU_BEHAVIOR_${hub.prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, "_")}`).catch(() => undefined);
    await nc.close();
  }
});

// librdkafka's mock cluster through kcat, as test/sessions/kafka-source.test.ts uses it; the hub is
// configured the way an operator does it, through KEFU_BEHAVIOR_KAFKA_BROKERS and _TOPIC.
test("the hub consumes behaviour events from Kafka into the open session, and /readyz shows the source", { skip: kcatMissing() }, async () => {
  const mock = await startKafkaMock();
  const topic = `kefu-test-hub-${Math.random().toString(36).slice(2, 10)}`;
  const producer = new Producer({ clientId: "kefu-test", bootstrapBrokers: [mock.bootstrapServers], serializers: stringSerializers });
  const hub = await startTestHub({}, { KEFU_BEHAVIOR_KAFKA_BROKERS: mock.bootstrapServers, KEFU_BEHAVIOR_KAFKA_TOPIC: topic });
  try {
    await openSession(hub, "S-kafka-1", "C-kafka-1");
    await eventually(() => getSession(hub, "S-kafka-1"));
    await eventually(async () => ((await (await fetch(`${hub.url}/readyz`)).json()) as { checks: Record<string, string> }).checks["sessions"] === "ok", 5000, "the Kafka source to be ok");
    await producer.send({ messages: ["/a", "/b"].map((url) => ({ topic, value: JSON.stringify(behavior("C-kafka-1", "page.viewed", { url })), partition: 0 })) });
    // The mock joins a new group after its rebalance delay and holds each fetch for the source's whole wait (5 s).
    const session = await eventually(async () => {
      const found = await getSession(hub, "S-kafka-1");
      return found?.behavior.counters["pageViews30m"] === 2 ? found : undefined;
    }, 30_000, "both Kafka events to be applied");
    assert.equal(session.behavior.latest["lastPage"], "/b");
  } finally {
    await hub.close();
    await producer.close();
    await mock.close();
  }
});
