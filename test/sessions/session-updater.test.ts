import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSessionMirror } from "../../src/sessions/session-mirror.ts";
import type { SessionStore } from "../../src/sessions/session-store.ts";
import type { StoredSession } from "../../src/sessions/session-types.ts";
import { createSessionUpdater, type SessionMutation } from "../../src/sessions/session-updater.ts";
import type { ApplyOutcome, SessionChange } from "../../src/sessions/session-writer.ts";

const opened = (sessionId: string): StoredSession => ({
  windows: {},
  context: {
    sessionId, state: "open", channel: "web", customer: { id: `C-${sessionId}`, profile: null }, orderId: null,
    risk: { level: "low", reasons: [] }, behavior: { recent: [], counters: {}, latest: {} }, routing: null,
    openedAt: new Date(0).toISOString(), lastMessageAt: null, messageCount: 0, closedAt: null, version: 0, updatedAt: new Date(0).toISOString(),
  },
});

describe("the session updater", () => {
  it("applies a second batch while the first is written, each session's changes in order and without a conflict", async () => {
    // A Redis of one version per session, answering each write only when told to.
    const versions = new Map<string, number>();
    const writes: { changes: readonly SessionChange[]; answer: () => void }[] = [];
    const write = (changes: readonly SessionChange[]): Promise<ApplyOutcome[]> =>
      new Promise((resolve) => {
        const outcomes = changes.map((change): ApplyOutcome => {
          const { sessionId } = change.next.context;
          if ((versions.get(sessionId) ?? 0) !== change.expectedVersion) return { kind: "conflict", current: undefined };
          versions.set(sessionId, change.expectedVersion + 1);
          return { kind: "applied", version: change.expectedVersion + 1, body: Buffer.from(JSON.stringify(change.next.context)) };
        });
        writes.push({ changes, answer: () => resolve(outcomes) });
      });
    const store = { getMany: (ids: readonly string[]) => Promise.resolve(ids.map(() => undefined)) } as unknown as SessionStore;
    const updater = createSessionUpdater({ store, write, mirror: createSessionMirror() });
    const count: SessionMutation = (current) => {
      const session = current ?? opened("x");
      return { ...session, context: { ...session.context, messageCount: session.context.messageCount + 1 } };
    };
    const named = (sessionId: string): SessionMutation => (current, pending) => {
      const next = count(current ?? opened(sessionId), pending) as StoredSession;
      return { ...next, context: { ...next.context, sessionId } };
    };

    const first = updater.changeMany([{ sessionId: "a", ids: ["e1"], mutate: named("a") }]);
    const second = updater.changeMany([{ sessionId: "a", ids: ["e2"], mutate: named("a") }, { sessionId: "b", ids: ["e3"], mutate: named("b") }]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes.map((w) => w.changes.map((c) => c.next.context.sessionId)), [["a"], ["b"]], "b is written at once; a waits for the first batch's change of it");
    writes[0]?.answer();
    writes[1]?.answer();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes[2]?.changes.map((c) => [c.next.context.sessionId, c.expectedVersion]), [["a", 1]], "then a, from the version the first batch wrote");
    writes[2]?.answer();
    assert.deepEqual((await second).map((r) => r.outcome), ["applied", "applied"]);
    assert.equal(writes.length, 3, "no conflict, no second attempt");
  });

  it("settles a change of a session that exists nowhere with one read, and orders one after a change under way here", async () => {
    const reads: string[][] = [];
    const store = { getMany: (ids: readonly string[]) => (reads.push([...ids]), Promise.resolve(ids.map(() => undefined))) } as unknown as SessionStore;
    const writes: { changes: readonly SessionChange[]; answer: () => void }[] = [];
    const write = (changes: readonly SessionChange[]): Promise<ApplyOutcome[]> =>
      new Promise((resolve) => {
        const outcomes = changes.map((change): ApplyOutcome => ({ kind: "applied", version: change.expectedVersion + 1, body: Buffer.from(JSON.stringify(change.next.context)) }));
        writes.push({ changes, answer: () => resolve(outcomes) });
      });
    const updater = createSessionUpdater({ store, write, mirror: createSessionMirror() });
    const message: SessionMutation = (current) =>
      current?.context.state === "open" ? { ...current, context: { ...current.context, messageCount: current.context.messageCount + 1 } } : undefined;

    assert.equal((await updater.changeExisting("ghost", ["m1"], message)).outcome, "unchanged");
    assert.deepEqual([reads, writes.length], [[["ghost"]], 0], "one read, nothing written");

    // The open is still being written when the message comes: the message waits for it, rather
    // than reading a Redis that has no session yet and dropping itself.
    const open = updater.change("a", ["o1"], () => opened("a"));
    const counted = updater.changeExisting("a", ["m2"], message);
    await new Promise((resolve) => setImmediate(resolve));
    writes[0]?.answer();
    await open;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes[1]?.changes.map((c) => [c.next.context.messageCount, c.expectedVersion]), [[1, 1]]);
    writes[1]?.answer();
    assert.equal((await counted).outcome, "applied");
  });

  it("takes a read made already (the accept script's) instead of reading again", async () => {
    const reads: string[] = [];
    const stored = { version: 1, contextJson: JSON.stringify(opened("b").context), windowsJson: "{}" };
    const store = { getMany: (ids: readonly string[]) => (reads.push(...ids), Promise.resolve(ids.map(() => stored))) } as unknown as SessionStore;
    const written: SessionChange[] = [];
    const write = (changes: readonly SessionChange[]): Promise<ApplyOutcome[]> => {
      written.push(...changes);
      return Promise.resolve(changes.map((change): ApplyOutcome => ({ kind: "applied", version: change.expectedVersion + 1, body: Buffer.from(JSON.stringify(change.next.context)) })));
    };
    const updater = createSessionUpdater({ store, write, mirror: createSessionMirror() });
    const message: SessionMutation = (current) =>
      current?.context.state === "open" ? { ...current, context: { ...current.context, messageCount: current.context.messageCount + 1 } } : undefined;

    assert.equal((await updater.changeExisting("ghost", ["m1"], message, { record: undefined })).outcome, "unchanged");
    assert.deepEqual([reads, written], [[], []], "a read that found nothing settles it: no second read, no write");
    // Found elsewhere (another instance opened it): changed as always, from Redis's state.
    assert.equal((await updater.changeExisting("b", ["m2"], message, { record: stored })).outcome, "applied");
    assert.deepEqual(written.map((c) => [c.next.context.sessionId, c.next.context.messageCount, c.expectedVersion]), [["b", 1, 1]]);
  });
});
