import type { SessionWindows } from "./session-types.ts";

/**
 * The windows of a session as JSON, for every change it is written with. A counter window holds up
 * to `max` (1,000) times and changes at its ends between two versions (a few newer times appended,
 * the oldest ones gone out of the window), so its text is built from the previous version's text
 * instead of printing every number again: that printing was the largest cost of writing a busy
 * session (about 60 µs for 640 times, ten times its context's). The same JSON as JSON.stringify.
 */
export type WindowsJson = (next: SessionWindows, previous: SessionWindows | undefined) => string;

/**
 * Remembers the text of each window it printed, weakly by the array: a window is kept (in the
 * parsed state of the session, parsed-sessions.ts) as long as its next change may start from it.
 */
export function createWindowsJson(): WindowsJson {
  const texts = new WeakMap<readonly number[], string>();
  const textOf = (times: readonly number[], before: readonly number[] | undefined): string => {
    let text = texts.get(times);
    if (text === undefined) {
      const previous = before && texts.get(before);
      text = (previous !== undefined && extended(before as readonly number[], previous, times)) || JSON.stringify(times);
      texts.set(times, text);
    }
    return text;
  };
  return (next, previous) => {
    let json = "{";
    for (const name in next) {
      if (json.length > 1) json += ",";
      json += `${JSON.stringify(name)}:${textOf(next[name] as number[], previous?.[name])}`;
    }
    return `${json}}`;
  };
}

/**
 * The text of `times` made from `text` (the JSON of `before`) when `times` is `before` without its
 * first d entries and with newer ones after it; undefined otherwise (a late event inserted inside).
 */
function extended(before: readonly number[], text: string, times: readonly number[]): string | undefined {
  if (before.length === 0 || times.length === 0) return undefined;
  // The smallest d where what is left of `before` starts `times`; equal times make several candidates.
  let d = lowerBound(before, times[0] as number);
  for (; d < before.length && before[d] === times[0]; d++) {
    const kept = before.length - d;
    if (kept > times.length || !sameRun(before, d, times, kept)) continue;
    let cut = 1;
    for (let k = 0; k < d; k++) cut = text.indexOf(",", cut) + 1;
    let json = text.slice(0, 1) + text.slice(cut, -1);
    for (let k = kept; k < times.length; k++) json += `,${times[k] as number}`;
    return `${json}]`;
  }
  return undefined;
}

function sameRun(before: readonly number[], from: number, times: readonly number[], count: number): boolean {
  for (let k = 0; k < count; k++) if (before[from + k] !== times[k]) return false;
  return true;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
