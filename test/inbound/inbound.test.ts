import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { expectProblem } from "../helpers/problem.ts";
import { eventually } from "../helpers/test-hub.ts";
import { allDeliveries, deliveryById, FIXED_TRANSFORM, hmacSource, SECRET, startInboundHub, type InboundHub } from "./helpers.ts";

let hub: InboundHub;
before(async () => {
  hub = await startInboundHub();
  await hub.putSource("carrier", hmacSource({ dedupe: { path: "$.pushId" } }));
});
after(() => hub.close());

const push = (extra: Record<string, unknown> = {}): string => JSON.stringify({ pushId: `P-${randomUUID()}`, orderId: "SO-100003", ...extra });

async function processed(id: string): Promise<NonNullable<Awaited<ReturnType<typeof deliveryById>>>> {
  return eventually(async () => {
    const delivery = await deliveryById(hub, id);
    return delivery && delivery.status !== "received" ? delivery : undefined;
  }, 5000, `delivery ${id} to be processed`);
}

test("a signed push is stored, answered 202, and becomes a hub event as POST /v1/events makes one", async () => {
  const response = await hub.post("carrier", push());
  assert.equal(response.status, 202);
  const { id, duplicate } = (await response.json()) as { id: string; duplicate: boolean };
  assert.equal(duplicate, false);
  const delivery = await processed(id);
  assert.equal(delivery.status, "processed");
  assert.deepEqual(delivery.events, [`${id}.0`]);
  const event = await hub.request(`/v1/events/${id}.0`, { scope: "read" });
  assert.equal(event.status, 200);
  const { event: stored } = (await event.json()) as { event: { type: string; source: string; data: { orderId: string } } };
  assert.deepEqual([stored.type, stored.source, stored.data.orderId], ["order.updated", "carrier", "SO-100003"]);
});

test("the source's dedupe rule: a second delivery with the same pushId is answered 200 duplicate and not stored", async () => {
  const pushId = `P-${randomUUID()}`;
  const first = await hub.post("carrier", JSON.stringify({ pushId, orderId: "SO-100003", at: 1 }));
  assert.equal(first.status, 202);
  const { id } = (await first.json()) as { id: string };
  const again = await hub.post("carrier", JSON.stringify({ pushId, orderId: "SO-100003", at: 2 }));
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), { id, duplicate: true });
  assert.equal((await allDeliveries(hub)).filter((delivery) => delivery.id === id).length, 1);
});

test("deliveries stored in one call see each other's marks: concurrent copies make one delivery", async () => {
  // Sent together, they are verified in one turn and stored by one Redis call (in order).
  const pushId = `P-${randomUUID()}`;
  const sameDedupe = await Promise.all([1, 2, 3].map((at) => hub.post("carrier", JSON.stringify({ pushId, orderId: "SO-100003", at }))));
  assert.deepEqual(sameDedupe.map((response) => response.status).sort(), [200, 200, 202]);
  const answers = (await Promise.all(sameDedupe.map((response) => response.json()))) as { id: string; duplicate: boolean }[];
  assert.equal(new Set(answers.map(({ id }) => id)).size, 1, "the duplicates name the stored delivery");
  const body = push();
  const sameBytes = await Promise.all([hub.post("carrier", body), hub.post("carrier", body)]);
  assert.deepEqual(sameBytes.map((response) => response.status).sort(), [202, 401], "the second copy of the same signed bytes is a replay");
  for (const response of sameBytes) await response.arrayBuffer();
  await processed(answers[0]?.id ?? "");
});

test("bad input is refused with problem+json and nothing is stored", async () => {
  const before = (await allDeliveries(hub)).length;
  const body = push();
  const wrong = await expectProblem(await hub.post("carrier", body, { signature: `sha256=${"0".repeat(64)}` }), 401, "verification_failed");
  assert.equal(wrong["check"], "signature");
  const expected = createHmac("sha256", SECRET).update(body).digest("hex");
  assert.doesNotMatch(JSON.stringify(wrong), new RegExp(expected), "the expected signature is not shown");
  assert.equal((await expectProblem(await hub.post("carrier", body, { signature: "" }), 401, "verification_failed"))["check"], "header");
  await expectProblem(await hub.post("carrier", "{not json"), 400, "malformed_json");
  await expectProblem(await hub.post("carrier", "", {}), 400, "malformed_json");
  await expectProblem(await hub.post("carrier", "hello", { headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
  await expectProblem(await hub.post("no-such-source", body), 404, "not_found");
  await expectProblem(await hub.post("carrier", JSON.stringify({ pad: "x".repeat(1024 * 1024) })), 413, "payload_too_large");
  await expectProblem(await hub.post("carrier", body, { headers: { "content-encoding": "gzip" } }), 415, "unsupported_media_type");
  assert.equal((await allDeliveries(hub)).length, before);
});

test("a replayed delivery is refused 401 replay; a stale timestamp 401 timestamp", async () => {
  const body = push();
  assert.equal((await hub.post("carrier", body)).status, 202);
  assert.equal((await expectProblem(await hub.post("carrier", body), 401, "verification_failed"))["check"], "replay");

  await hub.putSource("stamped", hmacSource({ verifier: { type: "hmac", secret: SECRET, header: "x-signature", signed: "timestamp.body", timestampHeader: "x-timestamp" } }));
  const at = (seconds: number): Record<string, string> => ({ "x-timestamp": String(seconds), "x-signature": createHmac("sha256", SECRET).update(`${seconds}.${body}`).digest("hex") });
  const now = Math.floor(Date.now() / 1000);
  const stale = await expectProblem(await hub.post("stamped", body, { signature: at(now - 400)["x-signature"], headers: at(now - 400) }), 401, "verification_failed");
  assert.equal(stale["check"], "timestamp");
  assert.equal((await hub.post("stamped", body, { signature: at(now)["x-signature"], headers: at(now) })).status, 202);
});

test("a custom success answer, and form-urlencoded bodies", async () => {
  await hub.putSource("alipay-like", { verifier: { type: "none", dangerouslyUnverified: true }, transform: { plugin: "test-transform" }, response: { status: 200, body: "success" } });
  const response = await fetch(`${hub.url}/v1/inbound/alipay-like`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "mode=echo&orderId=SO-100004&subject=%E9%BE%99%E4%BA%95" });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "success");
  const [delivery] = (await allDeliveries(hub)).filter((d) => d.source === "alipay-like");
  const done = await processed(String(delivery?.id));
  const event = (await (await hub.request(`/v1/events/${done.events?.[0]}`, { scope: "read" })).json()) as { event: { data: { orderId: string; changes: { body: Record<string, string> } } } };
  assert.equal(event.event.data.orderId, "SO-100004");
  assert.deepEqual(event.event.data.changes.body, { mode: "echo", orderId: "SO-100004", subject: "龙井" });
});

test("a transform that throws, loops, returns junk or an invalid event: a dead letter with its error; the hub keeps serving", async () => {
  const ids: Record<string, string> = {};
  const errors: Record<string, Awaited<ReturnType<typeof processed>>> = {};
  // The loop last, alone: a call queued behind it in the same isolate would time out with it.
  for (const modes of [["throw", "junk", "bad-event"], ["loop"]]) {
    for (const mode of modes) {
      const response = await hub.post("carrier", push({ mode }));
      assert.equal(response.status, 202, mode);
      ids[mode] = ((await response.json()) as { id: string }).id;
    }
    for (const mode of modes) errors[mode] = await processed(ids[mode] ?? "");
  }
  for (const [mode, delivery] of Object.entries(errors)) assert.equal(delivery.status, "dead", mode);
  assert.match(errors["throw"]?.error ?? "", /^plugin_error: .*the carrier changed its format/);
  assert.match(errors["loop"]?.error ?? "", /^plugin_timeout/);
  assert.match(errors["junk"]?.error ?? "", /^plugin_output_invalid/);
  assert.match(errors["bad-event"]?.error ?? "", /^plugin_output_invalid: .*\/events\/0\/data\/orderId is required/);
  const dead = (await allDeliveries(hub, "dead")).map((delivery) => delivery.id);
  for (const id of Object.values(ids)) assert.ok(dead.includes(id), `${id} listed as a dead letter`);
  assert.equal((await hub.post("carrier", push())).status, 202);
});

test("a dead letter is replayed once its plugin is fixed; only dead letters are", async () => {
  await hub.putSource("fixable", hmacSource({}, "fixable"));
  const response = await hub.post("fixable", push());
  const { id } = (await response.json()) as { id: string };
  assert.match((await processed(id)).error ?? "", /cannot read the push/);
  writeFileSync(join(hub.pluginsDir, "fixable", "index.js"), FIXED_TRANSFORM);
  await hub.hub.plugins.reload("fixable");
  const replayed = await hub.request(`/v1/inbound-deliveries/${id}/replay`, { method: "POST" });
  assert.equal(replayed.status, 200);
  const body = (await replayed.json()) as { status: string; attempts: number; events: string[]; error?: string };
  assert.deepEqual([body.status, body.attempts, body.events, body.error], ["processed", 2, [`${id}.0`], undefined]);
  assert.equal((await hub.request(`/v1/events/${id}.0`, { scope: "read" })).status, 200);
  await expectProblem(await hub.request(`/v1/inbound-deliveries/${id}/replay`, { method: "POST" }), 409, "conflict");
  await expectProblem(await hub.request("/v1/inbound-deliveries/ind_nope/replay", { method: "POST" }), 404, "not_found");
  await expectProblem(await hub.request(`/v1/inbound-deliveries/${id}/replay`, { method: "POST", scope: "read" }), 403, "forbidden");
});

test("behaviour events from a transform reach the customer's open session", async () => {
  const customerId = `C-in-${randomUUID().slice(0, 8)}`;
  const sessionId = `S-in-${randomUUID().slice(0, 8)}`;
  const opened = await hub.request("/v1/events", { method: "POST", scope: "ingest", json: { type: "chat.session.opened", occurredAt: new Date().toISOString(), source: "widget", data: { sessionId, channel: "web", customer: { id: customerId } } } });
  assert.equal(opened.status, 202);
  await eventually(async () => (await hub.request(`/v1/sessions/${sessionId}`, { scope: "read" })).status === 200, 5000, "the session to open");
  const { id } = (await (await hub.post("carrier", push({ mode: "behavior", customerId }))).json()) as { id: string };
  const delivery = await processed(id);
  assert.deepEqual([delivery.status, delivery.behaviorEvents, delivery.events], ["processed", 1, []]);
  await eventually(async () => {
    const session = (await (await hub.request(`/v1/sessions/${sessionId}`, { scope: "read" })).json()) as { recent?: { type: string }[] };
    return JSON.stringify(session).includes("payment.failed");
  }, 5000, "the payment.failed behaviour in the session");
});

test("raw deliveries are listed newest first with cursor paging", async () => {
  const all = await allDeliveries(hub);
  assert.ok(all.length >= 5);
  const first = (await (await hub.request("/v1/inbound-deliveries?limit=2")).json()) as { items: { id: string }[]; nextCursor?: string };
  assert.equal(first.items.length, 2);
  assert.ok(first.nextCursor);
  const second = (await (await hub.request(`/v1/inbound-deliveries?limit=2&cursor=${first.nextCursor}`)).json()) as { items: { id: string }[] };
  assert.deepEqual([...first.items, ...second.items].map((d) => d.id), all.slice(0, 4).map((d) => d.id));
  await expectProblem(await hub.request("/v1/inbound-deliveries?cursor=nonsense"), 400, "validation_failed");
  await expectProblem(await hub.request("/v1/inbound-deliveries", { scope: "read" }), 403, "forbidden");
});
