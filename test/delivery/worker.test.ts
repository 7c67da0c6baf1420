import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { startHubProcess, type HubProcess } from "../helpers/hub-process.ts";
import { deleteKeys, eventually, TEST_KEYS, TEST_REDIS_URL } from "../helpers/test-hub.ts";
import { ticketCreated } from "./fixtures.ts";
import { startReceiver, verify } from "./receiver.ts";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const prefix = `test-worker-${randomUUID().slice(0, 8)}`;
const children: ChildProcess[] = [];
let api: HubProcess | undefined;

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  if (api?.child.exitCode === null) api.child.kill("SIGKILL");
  await deleteKeys(prefix);
});

const shared = { KEFU_REDIS_PREFIX: prefix, KEFU_DELIVERY_ALLOW_CIDRS: "127.0.0.0/8", KEFU_PLUGIN_WATCH: "false" };

test("an API-only hub accepts, `kefu-hub worker` delivers; SIGTERM lets the active delivery finish", async () => {
  const receiver = await startReceiver(() => ({ status: 204, delayMs: 700 }));
  try {
    api = await startHubProcess({ ...shared, KEFU_DELIVERY_WORKERS: "false" });
    const call = (path: string, body: unknown): Promise<Response> =>
      fetch(api!.url + path, { method: "POST", headers: { authorization: `Bearer ${TEST_KEYS.admin}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const created = await call("/v1/subscriptions", { url: receiver.url, events: ["ticket.*"] });
    assert.equal(created.status, 201);
    const { secret } = (await created.json()) as { secret: string };
    const event = ticketCreated();
    assert.equal((await call("/v1/events", event)).status, 202);

    let output = "";
    const worker = spawn(process.execPath, [CLI, "worker"], {
      env: { PATH: process.env["PATH"] ?? "", REDIS_URL: TEST_REDIS_URL, KEFU_LOG_FORMAT: "json", KEFU_LOG_LEVEL: "warn", ...shared },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(worker);
    worker.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));

    const request = await eventually(() => receiver.received[0], 15_000, `the worker's delivery\n${output}`);
    assert.equal(verify(secret, request).type, "ticket.created");
    worker.kill("SIGTERM"); // while the receiver still holds the request
    assert.equal(await exited, 0, output);

    const events = await fetch(`${api.url}/v1/events/${String(event["id"])}`, { headers: { authorization: `Bearer ${TEST_KEYS.admin}` } });
    const detail = (await events.json()) as { deliveries: { items: { status: string }[] } };
    assert.equal(detail.deliveries.items[0]?.status, "delivered", "the active delivery finished before the worker exited");
    assert.equal(receiver.received.length, 1);
    // And it was the worker's: a process counts a delivery in its own kefu_deliveries_total before
    // it records it, and the record says delivered, so the API-only hub's count is final by now.
    const apiMetrics = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(apiMetrics, /^# TYPE kefu_deliveries_total counter$/m);
    assert.doesNotMatch(apiMetrics, /^kefu_deliveries_total\{outcome="delivered",priority="[a-z]+"\} [1-9]/m, "the API-only hub delivered by itself");
  } finally {
    await receiver.close();
  }
});
