import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { postEvent, subscribe, ticketCreated } from "../delivery/fixtures.ts";
import { eventually, startTestHub, type TestHub } from "../helpers/test-hub.ts";
import { getPage, signIn, type SignedInClient } from "./admin-client.ts";

// bull-board at /admin/queues (issue 15 item 2): behind the admin session, read-only, listing the
// delivery queue with its jobs. Without workers the jobs stay queued, so that there is something to see.
let hub: TestHub;
let admin: SignedInClient;

before(async () => {
  hub = await startTestHub({ deliveryWorkers: false, deliveryAllowCidrs: ["127.0.0.0/8"] });
  admin = await signIn(hub);
  await subscribe(hub, "http://127.0.0.1:9/hook");
  for (const priority of ["urgent", "normal", "low"]) await postEvent(hub, ticketCreated({ priority }));
});
after(() => hub?.close());

const api = (path: string, init: RequestInit & { cookie?: string } = {}): Promise<Response> =>
  fetch(`${hub.url}/admin/queues${path}`, { ...init, headers: { ...(init.cookie ? { cookie: init.cookie } : {}), ...(init.headers as Record<string, string> | undefined) } });

interface BoardQueues {
  queues: { name: string; readOnlyMode: boolean; allowRetries: boolean; description?: string; counts: Record<string, number> }[];
}

test("without a session a browser is sent to the sign-in, and back afterwards; the board's API is 401", async () => {
  const page = await getPage(hub, "/admin/queues");
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/admin?next=%2Fadmin%2Fqueues");
  const data = await api("/api/queues");
  assert.equal(data.status, 401);
  assert.match(data.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const forged = await api("/api/queues", { cookie: "kefu_admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
  assert.equal(forged.status, 401, "an unknown session token");
});

test("signed in, the board lists the delivery queue, read-only, with its jobs", async () => {
  const page = await getPage(hub, "/admin/queues", admin.cookie);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /kefu-hub queues|bull-board/i);
  const queues = await eventually(async () => {
    const response = await api("/api/queues?activeQueue=delivery&status=prioritized&page=1", { cookie: admin.cookie });
    assert.equal(response.status, 200);
    const body = (await response.json()) as BoardQueues;
    const delivery = body.queues.find((queue) => queue.name === "delivery");
    const queued = Object.values(delivery?.counts ?? {}).reduce((sum, count) => sum + count, 0);
    return queued >= 3 ? body : undefined;
  }, 10_000, "three delivery jobs on the board");
  assert.deepEqual(queues.queues.map((queue) => queue.name), ["delivery"], "every queue the hub runs");
  const [delivery] = queues.queues;
  assert.equal(delivery?.readOnlyMode, true);
  assert.equal(delivery?.allowRetries, false);
  assert.match(delivery?.description ?? "", /POST \/v1\/deliveries\/\{id\}\/replay/);
});

test("nothing but GET reaches bull-board, even with the CSRF token", async () => {
  for (const [method, path] of [["PUT", "/api/queues/delivery/retry/failed"], ["PUT", "/api/queues/delivery/clean/completed"], ["DELETE", "/api/queues/delivery/job/x"], ["POST", "/api/queues/delivery/add"]] as const) {
    const response = await api(path, { method, cookie: admin.cookie, headers: { "x-csrf-token": admin.csrfToken, origin: hub.url } });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get("allow"), "GET, HEAD");
    assert.equal(((await response.json()) as { code: string }).code, "method_not_allowed");
  }
  const counts = (await (await api("/api/queues", { cookie: admin.cookie })).json()) as BoardQueues;
  assert.ok(Object.values(counts.queues[0]?.counts ?? {}).reduce((sum, count) => sum + count, 0) >= 3, "no job was removed");
});

test("a read key cannot get a session for the board", async () => {
  const response = await fetch(`${hub.url}/admin/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "test-read-key-00003" }) });
  assert.equal(response.status, 403);
  assert.equal((await api("/api/queues", { headers: { authorization: "Bearer test-read-key-00003" } })).status, 401, "a bearer key is not a session");
});
