import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { decodeCursor } from "../../src/redis/cursor-page.ts";
import { deliveryKeys } from "../../src/delivery/delivery-keys.ts";
import { createDeliveryStore, FILTER_SCAN_LIMIT } from "../../src/delivery/delivery-store.ts";
import { deleteKeysAt } from "../helpers/delete-keys.ts";
import { expectProblem } from "../helpers/problem.ts";
import { TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";
import { finalDelivery, postEvent, startDeliveryHub, subscribe, ticketCreated, type CreatedSubscription } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

interface Listed {
  id: string;
  status: string;
  subscriptionId: string;
  createdAt: string;
}

let hub: TestHub;
let healthy: Receiver;
let broken: Receiver;
let ok: CreatedSubscription;
let failing: CreatedSubscription;
const delivered: string[] = [];
const dead: string[] = [];

before(async () => {
  hub = await startDeliveryHub();
  healthy = await startReceiver(() => ({ status: 204 }));
  broken = await startReceiver(() => ({ status: 500 }));
  ok = await subscribe(hub, healthy.url, { events: ["ticket.*"] });
  failing = await subscribe(hub, broken.url, { events: ["ticket.*"] });
  for (let i = 0; i < 3; i++) {
    const event = ticketCreated();
    await postEvent(hub, event);
    delivered.push(`${String(event["id"])}.${ok.id}`);
    dead.push(`${String(event["id"])}.${failing.id}`);
  }
  for (const id of [...delivered, ...dead]) await finalDelivery(hub, id);
});
after(async () => {
  await hub.close();
  await healthy.close();
  await broken.close();
});

async function list(query: string): Promise<{ items: Listed[]; nextCursor?: string }> {
  const response = await hub.request(`/v1/deliveries${query}`);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text) as { items: Listed[]; nextCursor?: string };
}

/** Every page of a listing, following nextCursor. */
async function listAll(query: string): Promise<Listed[]> {
  const items: Listed[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(`${query}${query ? "&" : "?"}limit=1${cursor ? `&cursor=${cursor}` : ""}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

test("GET /v1/deliveries lists every delivery of every subscription, whatever its status, newest first", async () => {
  const page = await list("");
  assert.deepEqual(new Set(page.items.map((d) => d.id)), new Set([...delivered, ...dead]));
  const created = page.items.map((d) => Date.parse(d.createdAt));
  assert.deepEqual(created, [...created].sort((a, b) => b - a));
});

test("?status= filters by any status, and pages of a filtered listing hold each match once", async () => {
  assert.deepEqual((await list("?status=delivered")).items.map((d) => d.id).sort(), [...delivered].sort());
  assert.deepEqual((await list("?status=failed")).items.map((d) => d.id).sort(), [...dead].sort());
  assert.deepEqual((await list("?status=pending")).items, []);
  assert.deepEqual((await list("?status=skipped")).items, []);
  const paged = await listAll("?status=delivered");
  assert.deepEqual(paged.map((d) => d.id).sort(), [...delivered].sort());
  assert.ok(paged.every((d) => d.status === "delivered"));
});

test("?subscription= narrows any status to one subscription", async () => {
  assert.deepEqual((await list(`?subscription=${ok.id}`)).items.map((d) => d.id).sort(), [...delivered].sort());
  assert.deepEqual((await list(`?subscription=${ok.id}&status=failed`)).items, []);
  assert.deepEqual((await list(`?subscription=${failing.id}&status=failed`)).items.map((d) => d.id).sort(), [...dead].sort());
  assert.deepEqual((await list(`?subscription=${failing.id}&status=delivered`)).items, []);
});

test("an unknown status is a 400 naming /query/status", async () => {
  const problem = await expectProblem(await hub.request("/v1/deliveries?status=lost"), 400, "validation_failed");
  assert.ok(problem.errors?.some((e) => e.pointer === "/query/status"), JSON.stringify(problem.errors));
});

test("a filtered page reads a bounded number of records, and its cursor goes on from there", async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = deliveryKeys(prefix);
    const store = createDeliveryStore({ redis, keys, retentionSeconds: 3600, deadLetterSeconds: 3600 });
    const start = Date.now() - 60_000;
    const total = FILTER_SCAN_LIMIT + 100;
    for (let i = 0; i < total; i += 100) {
      const deliveries = Array.from({ length: 100 }, (_, j) => ({ id: `evt_${i + j}.sub_list`, subscriptionId: "sub_list" }));
      // One event per batch, each newer than the last; within a batch the ids tie on the score.
      await store.create({ eventId: `evt_batch${i}`, eventType: "ticket.created", createdAtMs: start + i, deliveries });
    }
    // Only the oldest delivery is delivered: reaching it takes more than one page's scan.
    await redis.hset(keys.delivery("evt_0.sub_list"), "status", "delivered");

    const first = await store.pageOfAll({ status: "delivered", limit: 10 });
    assert.deepEqual(first.items, []);
    assert.ok(first.nextCursor, "a page cut short by the scan limit says where to go on");
    const cursor = decodeCursor(first.nextCursor);
    assert.ok(cursor);
    const second = await store.pageOfAll({ status: "delivered", limit: 10, cursor });
    assert.deepEqual(second.items.map((d) => d.id), ["evt_0.sub_list"]);
    assert.equal(second.nextCursor, undefined);
    assert.equal((await store.pageOfAll({ limit: 200 })).items.length, 200, "unfiltered pages are full");

    // The index is trimmed to the records' retention as new deliveries arrive.
    await store.create({ eventId: "evt_old", eventType: "ticket.created", createdAtMs: Date.now() - 7200_000, deliveries: [{ id: "evt_old.sub_list", subscriptionId: "sub_list" }] });
    await store.create({ eventId: "evt_new", eventType: "ticket.created", createdAtMs: Date.now(), deliveries: [{ id: "evt_new.sub_list", subscriptionId: "sub_list" }] });
    assert.equal(await redis.zscore(keys.deliveries, "evt_old.sub_list"), null);
    assert.notEqual(await redis.zscore(keys.deliveries, "evt_new.sub_list"), null);
  } finally {
    await redis.quit();
    await deleteKeysAt(TEST_REDIS_URL, prefix);
  }
});
