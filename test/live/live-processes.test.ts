import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { startHubProcess, type HubProcess } from "../helpers/hub-process.ts";
import { deleteKeys, eventually, TEST_KEYS } from "../helpers/test-hub.ts";
import { connectLive, type Frame } from "./live-client.ts";

// Two real `kefu-hub start` processes on one Redis: publications cross processes, and a client whose
// process is SIGKILLed resumes on the other one with `since`, missing nothing.
const admin = { authorization: `Bearer ${TEST_KEYS.admin}`, "content-type": "application/json" };

async function post(hub: HubProcess, path: string, body: unknown): Promise<Response> {
  return fetch(`${hub.url}${path}`, { method: "POST", headers: admin, body: JSON.stringify(body) });
}

async function tokenFrom(hub: HubProcess, body: Record<string, unknown>): Promise<string> {
  const response = await post(hub, "/v1/live/tokens", body);
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { token: string }).token;
}

const messageText = (frame: Frame): string | undefined =>
  frame.type === "publication" && (frame["data"] as { kind: string }).kind === "message" ? (frame["data"] as { text: string }).text : undefined;

describe("the live gateway across two hub processes", () => {
  it("a visitor on one process reaches the agent on the other; the agent, its process killed, resumes on the other with nothing missed", { timeout: 90_000 }, async () => {
    const prefix = `test-live-procs-${randomUUID().slice(0, 8)}`;
    const a = await startHubProcess({ KEFU_REDIS_PREFIX: prefix });
    const b = await startHubProcess({ KEFU_REDIS_PREFIX: prefix });
    try {
      const sessionId = `S-procs-${randomUUID().slice(0, 8)}`;
      const opened = await post(a, "/v1/events", { type: "chat.session.opened", occurredAt: new Date().toISOString(), source: "test", data: { sessionId, channel: "web", customer: { id: "C-procs", name: "Test Customer" } } });
      assert.equal(opened.status, 202);
      await eventually(async () => (await fetch(`${b.url}/v1/sessions/${sessionId}`, { headers: admin })).status === 200, 10_000, "the session on the other process");

      const agentToken = await tokenFrom(a, { role: "agent", id: "A-procs" });
      const agent = await connectLive(a.url, agentToken);
      agent.send({ type: "subscribe", channel: `session:${sessionId}`, ref: "s" });
      await agent.next((frame) => frame.type === "subscribed" && frame["ref"] === "s");

      const visitor = await connectLive(b.url, await tokenFrom(b, { role: "visitor", id: "C-procs", sessions: [sessionId] }));
      visitor.send({ type: "message", sessionId, text: "first, across processes", clientMessageId: "p1", ref: "m1" });
      const first = await agent.next((frame) => messageText(frame) === "first, across processes");
      const seen = Number(first["offset"]);

      a.child.kill("SIGKILL");
      await a.exited;
      await agent.closed;
      for (const [index, text] of ["second, while the agent is away", "third, while the agent is away"].entries()) {
        visitor.send({ type: "message", sessionId, text, clientMessageId: `p${index + 2}`, ref: `m${index + 2}` });
        await visitor.next((frame) => frame.type === "ack" && frame["ref"] === `m${index + 2}`);
      }

      const resumed = await connectLive(b.url, agentToken);
      resumed.send({ type: "subscribe", channel: `session:${sessionId}`, since: seen, ref: "r" });
      const subscribed = await resumed.next((frame) => frame.type === "subscribed" && frame["ref"] === "r");
      assert.equal(subscribed["recovered"], true);
      await resumed.next((frame) => messageText(frame) === "third, while the agent is away");
      const replayed = resumed.frames.map(messageText).filter((text): text is string => text !== undefined);
      assert.deepEqual(replayed, ["second, while the agent is away", "third, while the agent is away"], "replayed in order, once each");
      await Promise.all([visitor.close(), resumed.close()]);
    } finally {
      a.child.kill("SIGKILL");
      b.child.kill("SIGTERM");
      await b.exited;
      await deleteKeys(prefix);
    }
  });
});
