import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FaultPoint } from "../../src/fault-points.ts";
import { eventually, startTestHub } from "../helpers/test-hub.ts";
import { getSession, openSession } from "../sessions/helpers.ts";
import { connectLive, issueToken, type Frame } from "./live-client.ts";

const isMessage = (text: string) => (frame: Frame): boolean => frame.type === "publication" && (frame["data"] as { text?: string }).text === text;

describe("a live message's two halves", () => {
  it("reaches the agent while its event's hand-off is still held, and is acked only when that is done", async () => {
    let hold = false;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const faults = async (point: FaultPoint): Promise<void> => {
      if (hold && point === "event.stored") await held;
    };
    const hub = await startTestHub({ ingestTimeoutMs: 10_000 }, {}, { faults });
    try {
      await openSession(hub, "S-order-1", "C-order-1");
      await eventually(() => getSession(hub, "S-order-1"));
      const agent = await connectLive(hub.url, await issueToken(hub, { role: "agent", id: "A-order" }));
      agent.send({ type: "subscribe", channel: "session:S-order-1", ref: "s" });
      await agent.next((frame) => frame.type === "subscribed");
      const visitor = await connectLive(hub.url, await issueToken(hub, { role: "visitor", id: "C-order-1", sessions: ["S-order-1"] }));
      hold = true;
      visitor.send({ type: "message", sessionId: "S-order-1", text: "first", clientMessageId: "m1", ref: "m1" });
      visitor.send({ type: "message", sessionId: "S-order-1", text: "second", clientMessageId: "m2", ref: "m2" });
      // Both are published (in the frames' order) although the first event's hand-off is held.
      const first = await agent.next(isMessage("first"), 1000);
      const second = await agent.next(isMessage("second"), 1000);
      assert.equal(second["offset"], (first["offset"] as number) + 1);
      assert.equal(visitor.frames.some((frame) => frame.type === "ack"), false, "no ack before the event is ingested");
      release();
      const acks = await Promise.all(["m1", "m2"].map((ref) => visitor.next((frame) => frame.type === "ack" && frame["ref"] === ref)));
      assert.deepEqual(acks.map((ack) => ack["offset"]), [first["offset"], second["offset"]]);
      await eventually(async () => (await getSession(hub, "S-order-1"))?.messageCount === 2, 5000, "the session to count both messages");
      await Promise.all([agent.close(), visitor.close()]);
    } finally {
      release();
      await hub.close();
    }
  });
});
