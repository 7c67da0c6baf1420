import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { Redis, type Command } from "ioredis";
import { eventKeys } from "../../src/events/event-keys.ts";
import { createEventStore } from "../../src/events/event-store.ts";
import type { AcceptedEvent } from "../../src/events/hub-event.ts";
import { deleteKeys, TEST_REDIS_URL } from "../helpers/test-hub.ts";

const prefix = `test-event-store-${randomUUID().slice(0, 8)}`;
const keys = eventKeys(prefix);
const redis = new Redis(TEST_REDIS_URL);
const sent: string[] = [];
// Every command the store sends, by name: a round trip each.
const sendCommand = redis.sendCommand.bind(redis);
redis.sendCommand = (command: Command, stream?: unknown) => {
  sent.push(command.name);
  return sendCommand(command, stream as never);
};
const store = createEventStore(redis, keys, 60);

after(async () => {
  redis.disconnect();
  await deleteKeys(prefix);
});

function accepted(id: string, text: string, acceptedAt: number): AcceptedEvent {
  return { event: { id, type: "chat.message.created", occurredAt: "2026-12-02T08:00:00Z", source: "widget", priority: "normal", data: { text } }, acceptedAt, bodyHash: `hash-of-${text}` };
}

test("a new event is stored and marked for hand-off in one round trip", async () => {
  const id = `evt_${randomUUID()}`;
  await redis.ping(); // connected first: the connection's own handshake is not the store's
  sent.length = 0;
  assert.equal(await store.accept(accepted(id, "first", 1000)), "stored");
  assert.deepEqual(sent.filter((name) => name !== "eval"), ["evalsha"], "one script call (plus, once per connection, the script's load)");
  assert.equal((await store.get(id))?.event.data["text"], "first");
  assert.deepEqual(await redis.zrangebyscore(keys.handoff, "-inf", "+inf", "WITHSCORES"), [id, "1000"]);
});

for (const [kind, text, answer] of [
  ["a duplicate (same body)", "first", "duplicate"],
  ["a reused id (another body)", "second", "conflict"],
] as const) {
test(`${kind} costs one round trip, writes nothing and answers ${answer}`, async () => {
  const id = `evt_${randomUUID()}`;
  await store.accept(accepted(id, "first", 2000));
  await store.handedOff([id]);
  const before = { record: await redis.get(keys.event(id)), ttl: await redis.ttl(keys.event(id)), marks: await redis.zcard(keys.handoff) };
  sent.length = 0;
  assert.equal(await store.accept(accepted(id, text, 3000)), answer);
  assert.deepEqual(sent, ["evalsha"]);
  assert.equal(await redis.get(keys.event(id)), before.record, "the record is unchanged");
  assert.ok((await redis.ttl(keys.event(id))) <= before.ttl, "its expiry was not extended");
  assert.equal(await redis.zscore(keys.handoff, id), null, "no hand-off mark was written");
  assert.equal(await redis.zcard(keys.handoff), before.marks);
});
}

test("pending hand-offs: only marks older than the bound, with their records; cleared ones are gone", async () => {
  const old = `evt_${randomUUID()}`;
  const young = `evt_${randomUUID()}`;
  await store.accept(accepted(old, "old", 5000));
  await store.accept(accepted(young, "young", 9000));
  const pending = await store.pendingHandOffs(6000, 100);
  assert.ok(pending.ids.includes(old) && !pending.ids.includes(young));
  assert.equal(pending.events.find((e) => e.event.id === old)?.event.data["text"], "old");
  await store.handedOff([old, young]);
  assert.deepEqual((await store.pendingHandOffs(10_000, 100)).ids.filter((id) => id === old || id === young), []);
});
