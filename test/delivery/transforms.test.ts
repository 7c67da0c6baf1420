import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { writePlugins, type FixtureFile } from "../plugins/fixture-plugins.ts";
import { deliveriesOfEvent, FAST, finalDelivery, postEvent, subscribe, ticketCreated } from "./fixtures.ts";
import { startReceiver, verify, type Receiver } from "./receiver.ts";

/** Shapes by the ticket's subject: the receiver's own format, a skip, a throw, a loop, junk. */
const SHAPER: FixtureFile = {
  manifest: { version: "1.0.0", kind: "transform", entry: "index.js", limits: { memoryMb: 16, timeoutMs: 300 } },
  files: {
    "index.js": `
export async function inbound() { return null; }
export async function outbound({ subscriptionId, event, payload }) {
  switch (event.data.subject) {
    case "skip": return null;
    case "throw": throw new Error("cannot shape " + event.id);
    case "loop": for (;;) {}
    case "junk": return "not an object";
    default: return { text: "New ticket " + event.data.ticketId + ": " + event.data.subject, phone: event.data.customer.phone, kind: payload.type, for: subscriptionId };
  }
}
`,
  },
};
const INBOUND_ONLY: FixtureFile = {
  manifest: { version: "1.0.0", kind: "transform", entry: "index.js", limits: { memoryMb: 16, timeoutMs: 300 } },
  files: { "index.js": "export async function inbound() { return null; }\n" },
};

let hub: TestHub;
let shaped: Receiver;
let plain: Receiver;
let plugins: { dir: string; remove(): void };
before(async () => {
  plugins = writePlugins({ shaper: SHAPER, "inbound-only": INBOUND_ONLY });
  hub = await startTestHub({ ...FAST, deliveryRetrySchedule: "50ms", pluginsDir: plugins.dir, pluginWatch: false });
  [shaped, plain] = await Promise.all([startReceiver(), startReceiver()]);
});
after(async () => {
  await hub.close();
  await Promise.all([shaped.close(), plain.close()]);
  plugins.remove();
});

const ticket = (subject: string) => ticketCreated({ data: { ticketId: `T-${subject}`, subject, customer: { id: "C-1", phone: "+86 138 0000 0000" } } });

describe("payload transforms", () => {
  it("send what outbound() answers, masked and signed; null skips; failures dead-letter without holding other subscriptions", async () => {
    const sub = await subscribe(hub, shaped.url, { events: ["ticket.created"], transform: { plugin: "shaper" }, mask: ["phone"] });
    const other = await subscribe(hub, plain.url, { events: ["ticket.created"] });
    const finals = async (events: Record<string, unknown>[]) => {
      for (const event of events) await postEvent(hub, event);
      return Promise.all(
        events.map(async (event) => {
          const record = await eventually(async () => (await deliveriesOfEvent(hub, String(event["id"]))).find((d) => d.subscriptionId === sub.id), 5000, "the shaped delivery");
          return finalDelivery(hub, record.id, 10_000);
        }),
      );
    };
    const [ok, skipped, thrown, junk] = await finals(["Parcel late", "skip", "throw", "junk"].map(ticket));
    // On its own: while a call loops, the plugin's other calls wait for its isolate and time out too.
    const [looped] = await finals([ticket("loop")]);
    // The plain subscription got all five while the shaped one retried and failed: nothing held it.
    await eventually(() => plain.received.length === 5, 5000, "the plain subscription to get every event");
    assert.equal(verify(other.secret, plain.received[0] ?? assert.fail()).type, "ticket.created");

    assert.equal(ok?.status, "delivered");
    assert.equal(shaped.received.length, 1, "only the shaped event reached the receiver");
    const body = verify(sub.secret, shaped.received[0] ?? assert.fail()) as unknown as Record<string, unknown>;
    assert.deepEqual(body, { text: "New ticket T-Parcel late: Parcel late", phone: "***", kind: "ticket.created", for: sub.id });
    assert.equal(skipped?.status, "skipped");
    for (const [delivery, error] of [[thrown, /transform plugin shaper: .*cannot shape/], [looped, /transform plugin shaper: .*did not answer within 300 ms/], [junk, /transform plugin shaper: .*violates schemas\/plugins\/outbound/]] as const) {
      assert.equal(delivery?.status, "failed");
      assert.match(delivery?.lastError ?? "", error);
      assert.equal(delivery?.attempts, 2, "retried once (the schedule has one step), then a dead letter");
    }
    const detail = (await (await hub.request(`/v1/deliveries/${ok?.id}`)).json()) as { attemptLog: { requestBody?: string }[] };
    assert.match(detail.attemptLog.at(-1)?.requestBody ?? "", /"phone":"\*\*\*"/);
  });

  it("refuse a transform naming no plugin, or a plugin of another kind, with 422 at /transform/plugin", async () => {
    for (const [plugin, message] of [["nope", /no plugin nope is installed/], ["demo-orders-not-here", /no plugin/]] as const) {
      const response = await hub.request("/v1/subscriptions", { method: "POST", json: { url: plain.url, events: ["*"], transform: { plugin } } });
      assert.equal(response.status, 422);
      const problem = (await response.json()) as { errors: { pointer: string; message: string }[] };
      assert.equal(problem.errors[0]?.pointer, "/transform/plugin");
      assert.match(problem.errors[0]?.message ?? "", message);
    }
    const sub = await subscribe(hub, plain.url, { events: ["kefu.ping"], transform: { plugin: "inbound-only" } });
    const removed = await hub.request(`/v1/subscriptions/${sub.id}`, { method: "PATCH", json: { transform: null } });
    assert.equal(((await removed.json()) as { transform?: unknown }).transform, undefined);
  });

  it("a transform plugin without outbound() fails the attempt with a message that says so", async () => {
    const receiver = await startReceiver();
    try {
      const sub = await subscribe(hub, receiver.url, { events: ["ticket.updated"], transform: { plugin: "inbound-only" } });
      const event = ticketCreated({ type: "ticket.updated", data: { ticketId: "T-x", changes: { status: "open" } } });
      await postEvent(hub, event);
      const record = await eventually(async () => (await deliveriesOfEvent(hub, String(event["id"]))).find((d) => d.subscriptionId === sub.id), 5000, "the delivery");
      const final = await finalDelivery(hub, record.id, 10_000);
      assert.equal(final.status, "failed");
      assert.match(final.lastError ?? "", /does not export outbound\(\)/);
      assert.equal(receiver.received.length, 0);
    } finally {
      await receiver.close();
    }
  });
});
