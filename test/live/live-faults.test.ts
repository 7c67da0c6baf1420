import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { describe, it } from "node:test";
import { startHubProcess } from "../helpers/hub-process.ts";
import { deleteKeys, eventually, startTestHub, TEST_KEYS } from "../helpers/test-hub.ts";
import { getSession, openSession } from "../sessions/helpers.ts";
import { connectLive, issueToken } from "./live-client.ts";

/** A WebSocket client that completes the upgrade and then never reads: a consumer as slow as they come. */
async function stalledClient(url: string, token: string): Promise<{ destroy(): void }> {
  const { hostname, port } = new URL(url);
  const socket = tcpConnect(Number(port), hostname);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    `GET /v1/live?token=${token} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: kefu.v1.json\r\n\r\n`,
  );
  await new Promise<void>((resolve) => socket.once("data", () => resolve()));
  // A subscribe frame (masked, as clients must), then stop reading for good.
  const payload = Buffer.from(JSON.stringify({ type: "subscribe", channel: "session:S-slow" }));
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  socket.pause();
  return { destroy: () => socket.destroy() };
}

describe("live gateway faults", () => {
  it("a consumer that stops reading is closed (4008 slow consumer) while the others keep getting every message", async () => {
    const hub = await startTestHub({ liveMaxBufferBytes: 4096, liveSlowCloseMs: 300 });
    try {
      await openSession(hub, "S-slow", "C-slow");
      await eventually(() => getSession(hub, "S-slow"));
      const stalled = await stalledClient(hub.url, await issueToken(hub, { role: "agent", id: "A-slow" }));
      const healthy = await connectLive(hub.url, await issueToken(hub, { role: "agent", id: "A-ok" }));
      healthy.send({ type: "subscribe", channel: "session:S-slow", ref: "s" });
      await healthy.next((frame) => frame.type === "subscribed");
      const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-slow", sessions: ["S-slow"] }));
      const text = "x".repeat(19_000);
      // Loopback buffers in the kernel take ~10 MB before the hub's own send buffer fills: send until
      // the stalled connection is cut (or give up at 50 MB).
      // A paused socket never notices its end, so the hub's own count says when it was cut.
      let closed = false;
      const slowClosed = async (): Promise<boolean> => /kefu_live_slow_consumers_total 1\b/.test(await (await fetch(`${hub.url}/metrics`)).text());
      let sent = 0;
      while (!closed && sent < 2600) {
        visitor.send({ type: "message", sessionId: "S-slow", text, clientMessageId: `m${sent}`, ref: `m${sent}` });
        sent++;
        if (sent % 20 === 0) {
          await visitor.next((frame) => frame.type === "ack" && frame["ref"] === `m${sent - 1}`, 10_000);
          closed = await slowClosed();
        }
      }
      assert.equal(closed, true, "the hub cut the stalled connection");
      const last = `m${sent - 1}`;
      await healthy.next((frame) => frame.type === "publication" && (frame["data"] as { clientMessageId?: string }).clientMessageId === last, 20_000);
      assert.equal(healthy.frames.filter((frame) => frame.type === "publication" && (frame["data"] as { kind: string }).kind === "message").length, sent, "the healthy subscriber missed nothing");
      await Promise.all([healthy.close(), visitor.close()]);
      stalled.destroy();
    } finally {
      await hub.close();
    }
  });

  it("SIGTERM closes live connections with 1012 so that clients reconnect elsewhere", async () => {
    const prefix = `test-drain-${Math.random().toString(36).slice(2, 10)}`;
    const hub = await startHubProcess({ KEFU_REDIS_PREFIX: prefix });
    try {
      const tokenResponse = await fetch(`${hub.url}/v1/live/tokens`, { method: "POST", headers: { authorization: `Bearer ${TEST_KEYS.admin}`, "content-type": "application/json" }, body: JSON.stringify({ role: "agent", id: "A-drain" }) });
      const { token } = (await tokenResponse.json()) as { token: string };
      const client = await connectLive(hub.url, token);
      client.send({ type: "subscribe", channel: "queue:general" });
      await client.next((frame) => frame.type === "subscribed");
      hub.child.kill("SIGTERM");
      const { code } = await client.closed;
      assert.equal(code, 1012);
      await hub.exited;
    } finally {
      hub.child.kill("SIGKILL");
      await deleteKeys(prefix);
    }
  });
});

