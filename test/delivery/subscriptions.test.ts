import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { expectProblem } from "../helpers/problem.ts";
import { deliveriesOfEvent, finalDelivery, postEvent, queueDrained, startDeliveryHub, subscribe, ticketCreated } from "./fixtures.ts";
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

test("create, read, list, update and delete a subscription; the secret is shown on create only", async () => {
  const created = await subscribe(hub, `${receiver.url}/crud`, { events: ["ticket.*", "chat.message.created"], description: "CRM" });
  assert.match(created.id, /^sub_[A-Za-z0-9_-]{16}$/);
  assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(created.secret.slice(6), "base64").length, 32);

  const read = await hub.request(`/v1/subscriptions/${created.id}`);
  assert.equal(read.status, 200);
  const view = (await read.json()) as Record<string, unknown>;
  assert.equal(view["secret"], undefined);
  assert.equal(view["breaker"], "closed");
  assert.equal(view["enabled"], true);

  const list = await hub.request("/v1/subscriptions");
  assert.equal(list.status, 200);
  assert.ok(((await list.json()) as { items: { id: string }[] }).items.some((s) => s.id === created.id));

  const patched = await hub.request(`/v1/subscriptions/${created.id}`, { method: "PATCH", json: { events: ["*"], rateLimitPerSecond: 5, headers: { "X-Tenant": "acme" } } });
  assert.equal(patched.status, 200);
  const patchedView = (await patched.json()) as { events: string[]; headers: Record<string, string> };
  assert.deepEqual(patchedView.events, ["*"]);
  assert.deepEqual(patchedView.headers, { "x-tenant": "acme" });
  const unlimited = await hub.request(`/v1/subscriptions/${created.id}`, { method: "PATCH", json: { rateLimitPerSecond: null } });
  assert.equal(((await unlimited.json()) as { rateLimitPerSecond?: number }).rateLimitPerSecond, undefined);

  const deleted = await hub.request(`/v1/subscriptions/${created.id}`, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  await expectProblem(await hub.request(`/v1/subscriptions/${created.id}`), 404, "not_found");
  await expectProblem(await hub.request(`/v1/subscriptions/${created.id}`, { method: "DELETE" }), 404, "not_found");
});

test("bad subscriptions and events are refused with problem+json", async () => {
  const cases: [unknown, string][] = [
    [{ url: "ftp://example.com/x", events: ["*"] }, "/url"],
    [{ url: `${receiver.url}/x`, events: [] }, "/events"],
    [{ url: `${receiver.url}/x`, events: ["Ticket created"] }, "/events/0"],
    [{ url: `${receiver.url}/x`, events: ["*"], secret: "not-a-secret" }, "/secret"],
    [{ url: `${receiver.url}/x`, events: ["*"], headers: { "webhook-signature": "forged" } }, "/headers"],
    [{ url: `${receiver.url}/x`, events: ["*"], headers: { "Webhook-Signature": "forged" } }, "/headers"],
    [{ url: `${receiver.url}/x`, events: ["*"], headers: { "Content-Type": "text/plain" } }, "/headers"],
    [{ url: `${receiver.url}/x`, events: ["*"], extra: 1 }, "/extra"],
  ];
  for (const [body, pointer] of cases) {
    const problem = await expectProblem(await hub.request("/v1/subscriptions", { method: "POST", json: body }), 400, "validation_failed");
    assert.ok(problem.errors?.some((e) => e.pointer.startsWith(pointer)), `${JSON.stringify(body)} → ${JSON.stringify(problem.errors)}`);
  }
  await expectProblem(await hub.request("/v1/subscriptions", { method: "POST", scope: "ingest", json: {} }), 403, "forbidden");
  await expectProblem(await hub.request("/v1/subscriptions", { scope: "none" }), 401, "unauthorized");

  const badEvent = await expectProblem(
    await hub.request("/v1/events", { method: "POST", scope: "ingest", json: { ...ticketCreated(), priority: "asap" } }),
    400,
    "validation_failed",
  );
  assert.ok(badEvent.errors?.some((e) => e.pointer === "/priority"));
  const hubOwn = await expectProblem(await hub.request("/v1/events", { method: "POST", scope: "ingest", json: { ...ticketCreated(), type: "kefu.ping" } }), 400, "validation_failed");
  assert.ok(hubOwn.errors?.some((e) => e.pointer === "/type"));
  const colon = await expectProblem(await hub.request("/v1/events", { method: "POST", scope: "ingest", json: ticketCreated({ id: "a:b" }) }), 400, "validation_failed");
  assert.ok(colon.errors?.some((e) => e.pointer === "/id"));
  await expectProblem(await hub.request("/v1/events", { method: "POST", scope: "read", json: ticketCreated() }), 403, "forbidden");
  await expectProblem(await hub.request("/v1/events/batch", { method: "POST", scope: "ingest", json: { events: [] } }), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/events/evt_never-posted", { scope: "read" }), 404, "not_found");
  await expectProblem(await hub.request("/v1/deliveries/nothing.sub_x"), 404, "not_found");
  await expectProblem(await hub.request("/v1/deliveries/nothing.sub_x/replay", { method: "POST" }), 404, "not_found");
  await expectProblem(await hub.request("/v1/deliveries?cursor=garbage"), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/deliveries?status=lost"), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/subscriptions/sub_missing/replay", { method: "POST", json: { since: "yesterday" } }), 400, "validation_failed");
});

test("after rotate-secret both the new and the previous secret verify, within the overlap window", async () => {
  const sub = await subscribe(hub, `${receiver.url}/rotation`, { events: ["ticket.created"] });
  const rotated = await hub.request(`/v1/subscriptions/${sub.id}/rotate-secret`, { method: "POST" });
  assert.equal(rotated.status, 200);
  const { secret, previousSecretExpiresAt } = (await rotated.json()) as { secret: string; previousSecretExpiresAt: string };
  assert.notEqual(secret, sub.secret);
  const overlapHours = (Date.parse(previousSecretExpiresAt) - Date.now()) / 3_600_000;
  assert.ok(overlapHours > 23.9 && overlapHours <= 24, `overlap ${overlapHours} h`);

  const event = ticketCreated();
  await postEvent(hub, event);
  const request = await eventually(() => receiver.received.find((r) => r.path === "/rotation"), 5000, "delivery");
  assert.equal(String(request.headers["webhook-signature"]).split(" ").length, 2);
  assert.equal(verify(secret, request).type, "ticket.created");
  assert.equal(verify(sub.secret, request).type, "ticket.created");
  assert.throws(() => verify(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, request));

  // A given secret must be a Standard Webhooks one.
  await expectProblem(await hub.request(`/v1/subscriptions/${sub.id}/rotate-secret`, { method: "POST", json: { secret: "short" } }), 400, "validation_failed");
});

test("test sends a kefu.ping to that subscription only", async () => {
  const target = await subscribe(hub, `${receiver.url}/ping-target`, { events: ["ticket.closed"] });
  await subscribe(hub, `${receiver.url}/ping-other`, { events: ["*"] });
  const response = await hub.request(`/v1/subscriptions/${target.id}/test`, { method: "POST" });
  assert.equal(response.status, 202);
  const { eventId } = (await response.json()) as { eventId: string };
  const ping = await eventually(() => receiver.received.find((r) => r.headers["webhook-id"] === eventId), 5000, "ping");
  assert.equal(ping.path, "/ping-target");
  const body = new Webhook(target.secret).verify(ping.body, {
    "webhook-id": String(ping.headers["webhook-id"]),
    "webhook-timestamp": String(ping.headers["webhook-timestamp"]),
    "webhook-signature": String(ping.headers["webhook-signature"]),
  }) as { type: string; data: { subscriptionId: string } };
  assert.equal(body.type, "kefu.ping");
  assert.equal(body.data.subscriptionId, target.id);
  assert.equal((await finalDelivery(hub, `${eventId}.${target.id}`)).status, "delivered");
  // The ping's whole fan-out is the target, although the other subscription takes every type;
  // with the queue drained, nothing else can still bring it.
  assert.deepEqual(
    (await deliveriesOfEvent(hub, eventId)).map((d) => d.subscriptionId),
    [target.id],
  );
  await queueDrained(hub);
  assert.equal(receiver.received.filter((r) => r.headers["webhook-id"] === eventId).length, 1);

  const deliveries = await hub.request(`/v1/subscriptions/${target.id}/deliveries`);
  assert.equal(deliveries.status, 200);
  const page = (await deliveries.json()) as { items: { eventId: string; status: string }[] };
  assert.deepEqual(page.items.map((d) => d.eventId), [eventId]);
});
