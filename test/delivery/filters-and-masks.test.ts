import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { deliveriesOfEvent, finalDelivery, postEvent, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, verify, type Receiver } from "./receiver.ts";

let hub: TestHub;
let filtered: Receiver;
let everything: Receiver;
let masked: Receiver;
before(async () => {
  hub = await startDeliveryHub();
  [filtered, everything, masked] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
});
after(async () => {
  await hub.close();
  await Promise.all([filtered.close(), everything.close(), masked.close()]);
});

const VIP_ONLY = {
  any: [
    { fact: "tags", operator: "contains", value: "vip" },
    { fact: "data", path: "$.customer.tier", operator: "equal", value: "gold" },
  ],
};

async function problemOf(response: Response): Promise<{ status: number; errors: { pointer: string; message: string }[] }> {
  const body = (await response.json()) as { errors?: { pointer: string; message: string }[] };
  return { status: response.status, errors: body.errors ?? [] };
}

describe("subscription filters", () => {
  it("deliver only the events that pass, and make no record for the others", async () => {
    const vip = await subscribe(hub, filtered.url, { events: ["ticket.*"], filter: VIP_ONLY });
    await subscribe(hub, everything.url, { events: ["ticket.*"] });
    const plain = ticketCreated({ data: { ticketId: "T-1", subject: "Where is it?", customer: { id: "C-1", tier: "regular" } } });
    const tagged = ticketCreated({ data: { ticketId: "T-2", subject: "Broken", customer: { id: "C-2" }, tags: ["vip"] } });
    const gold = ticketCreated({ data: { ticketId: "T-3", subject: "Late", customer: { id: "C-3", tier: "gold" } } });
    for (const event of [plain, tagged, gold]) await postEvent(hub, event);
    // The unfiltered subscription is the barrier: once it has all three, fan-out is over for all three.
    await eventually(() => everything.received.length === 3, 5000, "the unfiltered subscription to get all three");
    await eventually(() => filtered.received.length === 2, 5000, "the filtered subscription to get the two VIP tickets");
    const ids = filtered.received.map((r) => (verify(vip.secret, r).data as { ticketId: string }).ticketId).sort();
    assert.deepEqual(ids, ["T-2", "T-3"]);
    const records = await deliveriesOfEvent(hub, String(plain["id"]));
    assert.equal(records.length, 1, "the filtered-out event has a delivery for the unfiltered subscription only");
    assert.notEqual(records[0]?.subscriptionId, vip.id);
  });

  it("can read the routing decision, and a PATCH with null removes the filter", async () => {
    const receiver = await startReceiver();
    try {
      const sub = await subscribe(hub, receiver.url, { events: ["ticket.created"], filter: { all: [{ fact: "routing.queue", operator: "equal", value: "no-such-queue" }] } });
      await postEvent(hub, ticketCreated());
      const patched = await hub.request(`/v1/subscriptions/${sub.id}`, { method: "PATCH", json: { filter: null } });
      assert.equal(patched.status, 200);
      assert.equal(((await patched.json()) as { filter?: unknown }).filter, undefined);
      const second = ticketCreated();
      await postEvent(hub, second);
      const got = await eventually(() => receiver.received[0], 5000, "the event after the filter was removed");
      assert.equal(verify(sub.secret, got).data["ticketId"], "T-1042");
      assert.equal(receiver.received.length, 1, "the event posted while the filter matched no queue was not delivered");
    } finally {
      await receiver.close();
    }
  });

  it("refuse a filter that does not compile with 422 naming the field, on create and on PATCH", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ all: [{ fact: "nope", operator: "equal", value: 1 }] }, "/filter/all/0/fact", /unknown fact "nope"/],
      [{ all: [{ fact: "customer.tier", operator: "equal", value: "gold" }] }, "/filter/all/0/fact", /unknown fact "customer.tier".*no plugin facts/],
      [{ any: [{ fact: "type", operator: "sounds-like", value: "x" }] }, "/filter/any/0/operator", /unknown operator/],
      [{ all: [{ fact: "tags", operator: "in", value: "vip" }] }, "/filter/all/0/value", /needs an array/],
    ];
    for (const [filter, pointer, message] of cases) {
      const created = await problemOf(await hub.request("/v1/subscriptions", { method: "POST", json: { url: everything.url, events: ["*"], filter } }));
      assert.equal(created.status, 422, JSON.stringify(filter));
      assert.equal(created.errors[0]?.pointer, pointer);
      assert.match(created.errors[0]?.message ?? "", message);
    }
    const sub = await subscribe(hub, everything.url, { events: ["kefu.ping"] });
    const patched = await problemOf(await hub.request(`/v1/subscriptions/${sub.id}`, { method: "PATCH", json: { filter: cases[0]?.[0] } }));
    assert.deepEqual([patched.status, patched.errors[0]?.pointer], [422, "/filter/all/0/fact"]);
    const shapeless = await problemOf(await hub.request("/v1/subscriptions", { method: "POST", json: { url: everything.url, events: ["*"], filter: { all: "x" } } }));
    assert.equal(shapeless.status, 400);
    assert.ok(shapeless.errors.some((e) => e.pointer.startsWith("/filter")));
  });
});

describe("payload masks", () => {
  const customer = { id: "C-9", phone: "+86 138 0000 0000", email: "li@example.cn" };
  const event = (email: string) =>
    ticketCreated({ type: "ticket.updated", data: { ticketId: "T-9", changes: { status: "open" }, customer: { ...customer, email }, contacts: [{ type: "phone", value: "138" }, { type: "wechat", value: "li_w" }], notes: "internal" } });

  it("redact, hash and drop before signing; the attempt log keeps the masked body and the key stays hidden", async () => {
    const mask = ["data.customer.phone", { path: "data.customer.email", action: "hash" }, { path: "data.contacts.*.value", action: "redact" }, { path: "data.notes", action: "drop" }];
    const sub = await subscribe(hub, masked.url, { events: ["ticket.updated"], mask });
    const first = event("li@example.cn");
    await postEvent(hub, first);
    await postEvent(hub, event("li@example.cn"));
    await postEvent(hub, event("wang@example.cn"));
    await eventually(() => masked.received.length === 3, 5000, "three masked deliveries");
    const bodies = masked.received.map((r) => verify(sub.secret, r).data as { customer: Record<string, string>; contacts: { type: string; value: string }[]; notes?: string });
    const [one, two, three] = bodies;
    assert.equal(one?.customer["phone"], "***");
    assert.equal(one?.customer["id"], "C-9", "fields not named stay");
    assert.match(one?.customer["email"] ?? "", /^[0-9a-f]{64}$/);
    assert.equal(one?.customer["email"], two?.customer["email"], "the same value hashes the same: receivers can join on it");
    assert.notEqual(one?.customer["email"], three?.customer["email"]);
    assert.deepEqual(one?.contacts, [{ type: "phone", value: "***" }, { type: "wechat", value: "***" }]);
    assert.equal("notes" in (one ?? {}), false);
    for (const received of masked.received) assert.doesNotMatch(received.body, /138 0000|li@example|internal/);

    const record = (await deliveriesOfEvent(hub, String(first["id"]))).find((d) => d.subscriptionId === sub.id);
    assert.ok(record);
    await finalDelivery(hub, record.id);
    const detail = (await (await hub.request(`/v1/deliveries/${record.id}`)).json()) as { attemptLog: { requestBody?: string }[] };
    const sent = detail.attemptLog.at(-1)?.requestBody ?? "";
    assert.match(sent, /"phone":"\*\*\*"/);
    assert.doesNotMatch(sent, /138 0000|li@example/);
    const view = await (await hub.request(`/v1/subscriptions/${sub.id}`)).text();
    assert.match(view, /"mask"/);
    assert.doesNotMatch(view, /maskKey|whsec_/);
  });

  it("refuse a malformed path with 400 naming it", async () => {
    const response = await problemOf(await hub.request("/v1/subscriptions", { method: "POST", json: { url: masked.url, events: ["*"], mask: ["data..phone"] } }));
    assert.equal(response.status, 400);
    assert.ok(response.errors.some((e) => e.pointer.startsWith("/mask/0")), JSON.stringify(response.errors));
  });
});
