import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { postEvent, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, verify, type Receiver } from "./receiver.ts";

let hub: TestHub;
let receiver: Receiver;
before(async () => {
  hub = await startDeliveryHub();
  receiver = await startReceiver();
});
after(async () => {
  await hub.close();
  await receiver.close();
});

test("an accepted event reaches its subscriber, signed so that standardwebhooks verifies it", async () => {
  const sub = await subscribe(hub, `${receiver.url}/hooks`, { events: ["ticket.*"], headers: { "x-tenant": "acme" } });
  const event = ticketCreated();
  const accepted = await postEvent(hub, event);
  assert.deepEqual(accepted, { id: event["id"], duplicate: false });
  const request = await eventually(() => receiver.received.find((r) => r.headers["webhook-id"] === event["id"]), 5000, "delivery");
  const body = verify(sub.secret, request);
  // Routing adds its decision to ticket.created as data.routing; everything else is as posted.
  const { routing, ...data } = body.data;
  assert.deepEqual({ ...body, data }, { type: "ticket.created", timestamp: "2026-11-30T09:15:00Z", data: event["data"] });
  if (routing !== undefined) assert.equal(typeof routing, "object");
  assert.equal(request.headers["x-tenant"], "acme");
  assert.equal(request.path, "/hooks");

  const detail = await eventually(async () => {
    const response = await hub.request(`/v1/events/${String(event["id"])}`, { scope: "read" });
    assert.equal(response.status, 200);
    const json = (await response.json()) as { deliveries: { items: { status: string; attempts: number; subscriptionId: string }[] } };
    return json.deliveries.items[0]?.status === "delivered" ? json : undefined;
  }, 5000, "delivered state");
  assert.equal(detail.deliveries.items[0]?.subscriptionId, sub.id);
  assert.equal(detail.deliveries.items[0]?.attempts, 1);
});
