import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { answersRedis } from "../../src/redis/resolve-redis.ts";
import { freePort } from "../../src/net/free-port.ts";
import { eventually, startTestHub } from "../helpers/test-hub.ts";
import { getSession, openSession } from "../sessions/helpers.ts";
import { connectLive, issueToken } from "./live-client.ts";

// A Redis of the test's own, killed and restarted (the shared one must not be).
describe("live gateway during a Redis outage", () => {
  const dir = mkdtempSync(join(tmpdir(), "kefu-live-outage-"));
  let redis: ChildProcess | undefined;
  after(() => {
    redis?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps connections open, answers message frames error unavailable, and works again when Redis returns", async () => {
    const port = await freePort();
    const startRedis = async (): Promise<void> => {
      redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""], { stdio: "ignore" });
      await eventually(() => answersRedis("127.0.0.1", port), 5000, "the test's Redis to answer");
    };
    await startRedis();
    const hub = await startTestHub({ redisUrl: `redis://127.0.0.1:${port}`, ingestTimeoutMs: 500 });
    try {
      await openSession(hub, "S-outage", "C-outage");
      await eventually(() => getSession(hub, "S-outage"));
      const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-outage", sessions: ["S-outage"] }));
      visitor.send({ type: "subscribe", channel: "session:S-outage", ref: "s" });
      await visitor.next((frame) => frame.type === "subscribed");
      const dying = redis;
      await new Promise<void>((resolve) => {
        dying?.once("exit", () => resolve());
        dying?.kill("SIGKILL");
      });
      visitor.send({ type: "message", sessionId: "S-outage", text: "anyone?", clientMessageId: "o1", ref: "o1" });
      const refused = await visitor.next((frame) => frame["ref"] === "o1", 10_000);
      assert.equal(refused.type, "error");
      assert.equal(refused["code"], "unavailable");
      assert.equal(visitor.socket.readyState, visitor.socket.OPEN, "the connection stays open");
      await startRedis();
      await eventually(async () => {
        visitor.send({ type: "message", sessionId: "S-outage", text: "anyone?", clientMessageId: "o1", ref: `retry-${visitor.frames.length}` });
        const answer = await visitor.next((frame) => typeof frame["ref"] === "string" && (frame["ref"]).startsWith("retry-") && frame.type === "ack", 1500).catch(() => undefined);
        return answer;
      }, 15_000, "the resent message to be acked once Redis is back");
      await visitor.close();
    } finally {
      await hub.close();
    }
  });
});
