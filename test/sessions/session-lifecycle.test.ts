import assert from "node:assert/strict";
import { test } from "node:test";
import { pino } from "pino";
import type { AcceptedEvent } from "../../src/events/hub-event.ts";
import { createSessionLifecycle } from "../../src/sessions/session-lifecycle.ts";
import { createSessionMirror } from "../../src/sessions/session-mirror.ts";
import type { SessionUpdater } from "../../src/sessions/session-updater.ts";
import { sessionKeys } from "../../src/sessions/session-keys.ts";

const event = (type: string, data: Record<string, unknown>): AcceptedEvent => ({
  event: { id: "evt_1", type, occurredAt: "2026-12-04T20:00:00Z", source: "widget", priority: "normal", data },
  acceptedAt: 0,
});

test("readFor asks the accept script for the session of a message or close this instance does not hold, and nothing else", () => {
  const mirror = createSessionMirror();
  mirror.put({ sessionId: "S-held", customerId: "C-1", state: "open", version: 2, body: '{"sessionId":"S-held"}' });
  const keys = sessionKeys("p");
  const lifecycle = createSessionLifecycle({ updater: {} as SessionUpdater, mirror, keys, fusion: () => { throw new Error("unused"); }, profileOf: () => Promise.resolve(null), logger: pino({ level: "silent" }) });
  assert.deepEqual(lifecycle.readFor(event("chat.message.created", { sessionId: "S-1" })), { key: keys.session("S-1"), fields: ["v", "ctx", "win"] });
  assert.deepEqual(lifecycle.readFor(event("chat.session.closed", { sessionId: "S-1" }))?.key, keys.session("S-1"));
  assert.equal(lifecycle.readFor(event("chat.message.created", { sessionId: "S-held" })), undefined, "held here: the mirror has it");
  assert.equal(lifecycle.readFor(event("chat.session.opened", { sessionId: "S-1" })), undefined, "an open reads through the updater");
  assert.equal(lifecycle.readFor(event("ticket.created", { sessionId: "S-1" })), undefined);
  assert.equal(lifecycle.readFor(event("chat.message.created", {})), undefined);
});
