import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { startHubProcess, type HubProcess } from "../helpers/hub-process.ts";
import { deleteKeys, eventually, TEST_KEYS } from "../helpers/test-hub.ts";
import { ticketCreated } from "./fixtures.ts";
import { startReceiver } from "./receiver.ts";

/** The full 1,000 of the issue; `KEFU_CRASH_EVENTS=<n>` changes it. */
const EVENTS = Number(process.env["KEFU_CRASH_EVENTS"] ?? 1000);
const prefix = `test-crash-${randomUUID().slice(0, 8)}`;
const processes: HubProcess[] = [];

after(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await deleteKeys(prefix);
});

async function start(): Promise<HubProcess> {
  const hub = await startHubProcess({
    KEFU_REDIS_PREFIX: prefix,
    KEFU_DELIVERY_ALLOW_CIDRS: "127.0.0.0/8",
    KEFU_DELIVERY_RETRY_SCHEDULE: "100ms,200ms,500ms,1s,1s",
    // The default lock and hand-off windows: what is promised is what a default hub does.
    KEFU_PLUGIN_WATCH: "false",
  });
  processes.push(hub);
  return hub;
}

function post(hub: HubProcess, path: string, body: unknown): Promise<Response> {
  return fetch(hub.url + path, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEYS.admin}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

test(`the hub killed with SIGKILL while ${EVENTS} events are in flight delivers every accepted one within 10 s of the restart`, async () => {
  // A receiver that takes 250 ms per answer: a full worker's worth of deliveries is mid-request
  // when the process dies, and their jobs are held by the dead worker's locks.
  const receiver = await startReceiver(() => ({ status: 204, delayMs: 250 }));
  try {
    const first = await start();
    const created = await post(first, "/v1/subscriptions", { url: `${receiver.url}/crash`, events: ["*"] });
    assert.equal(created.status, 201);

    const accepted = new Set<string>();
    let sent = 0;
    // Killed with most events accepted, posts still arriving, and fan-out and deliveries behind.
    const killAt = Math.floor(EVENTS * 0.8);
    const sender = async (): Promise<void> => {
      while (sent < EVENTS) {
        const event = ticketCreated();
        sent++;
        try {
          const response = await post(first, "/v1/events", event);
          if (response.status === 202) accepted.add(String(event["id"]));
          if (accepted.size === killAt) first.child.kill("SIGKILL");
        } catch {
          // refused or cut by the kill: not accepted, so not owed
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    await first.exited;
    const deliveredBeforeRestart = new Set(receiver.received.map((r) => String(r.headers["webhook-id"]))).size;
    assert.ok(accepted.size >= killAt, `only ${accepted.size} accepted before the kill`);
    assert.ok(deliveredBeforeRestart < accepted.size, "the kill came too late to test anything");

    // Whatever was accepted but not yet delivered is only in Redis now.
    await start();
    const readyAt = Date.now();
    const arrived = (): Set<string> => new Set(receiver.received.map((r) => String(r.headers["webhook-id"])));
    await eventually(() => [...accepted].every((id) => arrived().has(id)), 10_000, "every accepted event to be delivered within 10 s of the restart");
    const lastAt = Math.max(...[...accepted].map((id) => receiver.received.find((r) => r.headers["webhook-id"] === id)?.at ?? 0));
    const ids = receiver.received.map((r) => String(r.headers["webhook-id"]));
    const lost = [...accepted].filter((id) => !ids.includes(id));
    const duplicates = ids.length - new Set(ids).size;
    console.log(`crash test: ${accepted.size} accepted, ${deliveredBeforeRestart} delivered before the restart, ${lost.length} lost, ${duplicates} duplicates, the last ${lastAt - readyAt} ms after the restart was ready`);
    assert.deepEqual(lost, []);
  } finally {
    await receiver.close();
  }
});
