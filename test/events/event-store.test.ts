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

test("companion records are written with a new event, in its one round trip, and not for a duplicate", async () => {
  const id = `evt_${randomUUID()}`;
  const hashKey = `${prefix}:companion:${id}`;
  const indexKey = `${prefix}:companion-index`;
  const records = (createdAt: string) => ({
    hashes: [{ key: hashKey, fields: ["createdAt", createdAt, "status", "pending"], ttlSeconds: 60 }],
    indexes: [{ key: indexKey, score: 5000, member: id, trimBelow: 1000, ttlSeconds: 60 }],
  });
  await redis.zadd(indexKey, "10", "old-member");
  await redis.ping();
  sent.length = 0;
  assert.equal(await store.accept(accepted(id, "first", 5000), records("T1")), "stored");
  assert.deepEqual(sent.filter((name) => name !== "eval"), ["evalsha"]);
  assert.deepEqual(await redis.hgetall(hashKey), { createdAt: "T1", status: "pending" });
  assert.ok((await redis.ttl(hashKey)) > 0, "the hash expires");
  assert.deepEqual(await redis.zrange(indexKey, "0", "-1"), [id], "the entry is added and entries below the bound trimmed");
  assert.ok((await redis.ttl(indexKey)) > 0, "the index expires");

  await redis.hset(hashKey, "status", "delivered");
  assert.equal(await store.accept(accepted(id, "first", 6000), records("T2")), "duplicate");
  assert.deepEqual(await redis.hgetall(hashKey), { createdAt: "T1", status: "delivered" }, "a duplicate writes nothing");
});

test("companion reads are made with a new event, in its one round trip, beside its records; a duplicate reads nothing", async () => {
  const id = `evt_${randomUUID()}`;
  const hashKey = `${prefix}:companion:${id}`;
  const readKey = `${prefix}:read:${id}`;
  await redis.hset(readKey, { v: "3", ctx: "{}" });
  const records = { hashes: [{ key: hashKey, fields: ["createdAt", "T1"], ttlSeconds: 60 }], indexes: [] };
  const reads = [{ key: readKey, fields: ["v", "ctx", "win"] }, { key: `${prefix}:read:absent`, fields: ["v"] }];
  sent.length = 0;
  assert.deepEqual(await store.acceptReading(accepted(id, "first", 8000), records, reads), { outcome: "stored", values: [["3", "{}", null], [null]] });
  assert.deepEqual(sent.filter((name) => name !== "eval"), ["evalsha"]);
  assert.deepEqual(await redis.hgetall(hashKey), { createdAt: "T1" }, "the records are written as without reads");
  assert.deepEqual(await store.acceptReading(accepted(id, "first", 9000), records, reads), { outcome: "duplicate" });
  assert.deepEqual(await store.acceptReading(accepted(`evt_${randomUUID()}`, "only reads", 9000), undefined, reads.slice(1)), { outcome: "stored", values: [[null]] });
});

test("a companion hash that already exists is left as it is", async () => {
  const id = `evt_${randomUUID()}`;
  const hashKey = `${prefix}:companion:${id}`;
  await redis.hset(hashKey, { createdAt: "T0", status: "delivered" });
  const records = { hashes: [{ key: hashKey, fields: ["createdAt", "T1", "status", "pending"], ttlSeconds: 60 }], indexes: [] };
  assert.equal(await store.accept(accepted(id, "first", 7000), records), "stored");
  assert.deepEqual(await redis.hgetall(hashKey), { createdAt: "T0", status: "delivered" });
});

test("several events in one round trip: each stored, a duplicate or a conflict on its own, companions only for the new", async () => {
  const [known, fresh, reused] = [`evt_${randomUUID()}`, `evt_${randomUUID()}`, `evt_${randomUUID()}`];
  await store.accept(accepted(known, "first", 4000));
  await store.accept(accepted(reused, "first", 4000));
  const companion = (id: string) => ({ hashes: [{ key: `${prefix}:companion:${id}`, fields: ["id", id, "n", 1], ttlSeconds: 60 }], indexes: [{ key: `${prefix}:many-index`, score: 5000, member: id }] });
  sent.length = 0;
  const outcomes = await store.acceptMany([
    { accepted: accepted(known, "first", 5000), records: companion(known) },
    { accepted: accepted(fresh, "new", 5000), records: companion(fresh) },
    { accepted: accepted(reused, "other", 5000), records: companion(reused) },
    { accepted: accepted(fresh, "new", 5000) },
  ]);
  assert.deepEqual(outcomes, ["duplicate", "stored", "conflict", "duplicate"], "in order: the second copy of a new id sees the first");
  assert.deepEqual(sent, ["evalsha"]);
  assert.equal((await store.get(fresh))?.event.data["text"], "new");
  assert.deepEqual(await redis.hgetall(`${prefix}:companion:${fresh}`), { id: fresh, n: "1" });
  assert.equal(await redis.exists(`${prefix}:companion:${known}`, `${prefix}:companion:${reused}`), 0, "nothing written for a duplicate or a conflict");
  assert.deepEqual(await redis.zrange(`${prefix}:many-index`, "0", "-1"), [fresh]);
  assert.equal(await redis.zscore(keys.handoff, fresh), "5000");
});
