import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { startHubProcess } from "../helpers/hub-process.ts";
import { deleteKeys, TEST_KEYS } from "../helpers/test-hub.ts";

interface Tally {
  ok: number;
  refused: number;
  reset: string[];
}

/** One keep-alive client looping GET /v1/whoami until the server no longer accepts connections. */
async function client(url: string, tally: Tally): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (;;) {
      const outcome = await new Promise<string>((resolve) => {
        const req = request(`${url}/v1/whoami`, { agent, headers: { authorization: `Bearer ${TEST_KEYS.admin}` } }, (res) => {
          res.resume();
          res.once("end", () => resolve(res.statusCode === 200 ? "ok" : `status ${res.statusCode}`));
        });
        req.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" ? "refused" : `${error.code}: ${error.message}`));
        req.end();
      });
      if (outcome === "ok") tally.ok += 1;
      else if (outcome === "refused") {
        tally.refused += 1;
        return;
      } else {
        tally.reset.push(outcome);
        return;
      }
    }
  } finally {
    agent.destroy();
  }
}

test("SIGTERM under load: no request is reset, the process exits 0", { timeout: 30_000 }, async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const hub = await startHubProcess({ KEFU_REDIS_PREFIX: prefix });
  try {
    const tally: Tally = { ok: 0, refused: 0, reset: [] };
    const clients = Array.from({ length: 20 }, () => client(hub.url, tally));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const servedBefore = tally.ok;
    hub.child.kill("SIGTERM");
    await Promise.all(clients);
    assert.equal(await hub.exited, 0, hub.output());
    assert.deepEqual(tally.reset, [], "requests answered with a reset");
    assert.ok(servedBefore > 100, `load was running (${servedBefore} requests before SIGTERM)`);
  } finally {
    hub.child.kill("SIGKILL");
    await deleteKeys(prefix);
  }
});

test("a request in flight at SIGTERM is finished within the grace period", { timeout: 30_000 }, async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const hub = await startHubProcess({ KEFU_REDIS_PREFIX: prefix });
  try {
    const { port } = new URL(hub.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    const body = JSON.stringify({ half: "of a body" });
    socket.write(`POST /v1/whoami HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    hub.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(hub.child.exitCode, null, "the hub waits for the request in flight");
    socket.write(body.slice(5));
    await new Promise((resolve) => socket.once("close", resolve));
    assert.match(answer, /^HTTP\/1.1 405 /);
    assert.equal(await hub.exited, 0);
  } finally {
    hub.child.kill("SIGKILL");
    await deleteKeys(prefix);
  }
});

test("a second signal exits at once", { timeout: 30_000 }, async () => {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const hub = await startHubProcess({ KEFU_REDIS_PREFIX: prefix, KEFU_SHUTDOWN_GRACE_MS: "60000" });
  try {
    // A connection that never finishes its request keeps the first shutdown waiting.
    const socket = connect(Number(new URL(hub.url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("POST /v1/whoami HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    await new Promise((resolve) => setTimeout(resolve, 100));
    hub.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(hub.child.exitCode, null);
    hub.child.kill("SIGINT");
    assert.equal(await hub.exited, 1);
    socket.destroy();
  } finally {
    hub.child.kill("SIGKILL");
    await deleteKeys(prefix);
  }
});
