import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createWindowsJson } from "../../src/sessions/windows-json.ts";
import type { SessionWindows } from "../../src/sessions/session-types.ts";

describe("windows JSON", () => {
  it("is JSON.stringify's text through appends, cuts, late inserts and equal times", () => {
    const windowsJson = createWindowsJson();
    // Deterministic pseudo-random edits, as fusion.apply makes them: append, drop the oldest, insert late.
    let seed = 7;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let previous: SessionWindows | undefined;
    let windows: SessionWindows = { a: [], b: [1000, 1000, 1001] };
    for (let step = 0; step < 2000; step++) {
      const times = [...(windows["a"] as number[])];
      const last = times[times.length - 1] ?? 1_700_000_000_000;
      const roll = random();
      if (roll < 0.5) times.push(last + Math.floor(random() * 3)); // in order, equal times too
      else if (roll < 0.6) times.splice(Math.floor(random() * times.length), 0, times[0] ?? last); // late: the oldest again
      else if (roll < 0.9) times.splice(0, Math.floor(random() * 4)); // out of the window
      // else: unchanged, a new array
      const next: SessionWindows = { ...windows, a: roll < 0.95 ? times : (windows["a"] as number[]) };
      assert.equal(windowsJson(next, previous ? windows : undefined), JSON.stringify(next), `step ${step}`);
      previous = windows;
      windows = next;
    }
  });

  it("prints a window it has not seen, and an empty one", () => {
    const windowsJson = createWindowsJson();
    assert.equal(windowsJson({ x: [], "y\"z": [5] }, undefined), '{"x":[],"y\\"z":[5]}');
    assert.equal(windowsJson({}, { x: [1] }), "{}");
    assert.equal(windowsJson({ x: [2, 3] }, { x: [1] }), '{"x":[2,3]}', "nothing of the previous one left");
  });
});
