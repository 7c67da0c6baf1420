import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParsedSessions } from "../../src/sessions/parsed-sessions.ts";
import type { StoredSession } from "../../src/sessions/session-types.ts";

const session = (id: string): StoredSession => ({ windows: {}, context: { sessionId: id } as StoredSession["context"] });

describe("parsed sessions", () => {
  it("answer a session only at the version it was held at, and drop the least recently written beyond max", () => {
    const parsed = createParsedSessions(2);
    parsed.set("a", 1, session("a"));
    parsed.set("b", 1, session("b"));
    assert.equal(parsed.get("a", 2), undefined, "another instance wrote version 2: parse it again");
    parsed.set("a", 2, session("a"));
    parsed.set("c", 1, session("c"));
    assert.equal(parsed.size(), 2);
    assert.equal(parsed.get("b", 1), undefined, "b was written least recently");
    assert.equal(parsed.get("a", 2)?.context.sessionId, "a");
    assert.equal(parsed.get("c", 1)?.context.sessionId, "c");
  });
});
