import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { eventually, type TestHub } from "../helpers/test-hub.ts";
import { postEvent, startDeliveryHub, subscribe } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

let hub: TestHub;
let receiver: Receiver;
let release: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (release = resolve));

before(async () => {
  // One delivery at a time, so that the order of receipt is the queue's order.
  hub = await startDeliveryHub({ deliveryConcurrency: 1 });
  receiver = await startReceiver(async (request) => {
    if ((JSON.parse(request.body) as { data: { note: string } }).data.note === "blocker") await gate;
    return { status: 204 };
  });
});
after(async () => {
  release();
  await hub.close();
  await receiver.close();
});

test("with a backlog waiting, urgent events are delivered before high, normal and low ones, FIFO within each", async () => {
  // ticket.closed: a type routing leaves alone, so the posted priority is the delivered one.
  await subscribe(hub, receiver.url, { events: ["ticket.closed"] });
  await postEvent(hub, closed("blocker", "normal"));
  await eventually(() => receiver.received.length === 1, 5000, "the blocker to be in flight");

  const order = ["low", "normal", "urgent", "high", "low", "urgent", "normal", "high"] as const;
  const posted: { priority: string; subject: string }[] = [];
  for (const [index, priority] of order.entries()) {
    const subject = `${priority}-${index}`;
    posted.push({ priority, subject });
    await postEvent(hub, closed(subject, priority));
  }
  // Wait until every one is queued (fanned out) before letting the worker go on.
  await eventually(async () => {
    const metrics = await (await hub.request("/metrics", { scope: "none" })).text();
    const waiting = [...metrics.matchAll(/^kefu_queue_jobs\{state="waiting",priority="\w+"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    return waiting === order.length;
  }, 5000, "the backlog to be queued");
  release();
  await eventually(() => receiver.received.length === order.length + 1, 5000, "all deliveries");

  const received = receiver.received.slice(1).map((r) => (JSON.parse(r.body) as { data: { note: string } }).data.note);
  const rank = { urgent: 0, high: 1, normal: 2, low: 3 } as const;
  const expected = [...posted].sort((a, b) => rank[a.priority as keyof typeof rank] - rank[b.priority as keyof typeof rank]).map((p) => p.subject);
  assert.deepEqual(received, expected);
});

function closed(note: string, priority: string): Record<string, unknown> {
  return { id: `evt_${randomUUID()}`, type: "ticket.closed", occurredAt: new Date().toISOString(), source: "helpdesk", priority, data: { ticketId: "T-1", note } };
}
