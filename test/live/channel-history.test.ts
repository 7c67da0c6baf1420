import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { createChannelHistory } from "../../src/live/channel-history.ts";
import { deleteKeysAt } from "../helpers/delete-keys.ts";

// KEFU_LIVE_HISTORY_SECONDS against the real Redis, with an injected clock: publications older than
// the window are not replayed, and publishing trims them from the stream.
const REDIS_URL = "redis://127.0.0.1:6379";
const prefix = `test-history-${randomUUID().slice(0, 8)}`;
const redis = new Redis(REDIS_URL);
after(async () => {
  await redis.quit();
  await deleteKeysAt(REDIS_URL, prefix);
});

const MINUTE = 60_000;

function historyAt(clock: { now: number }, size = 1000) {
  return createChannelHistory({ redis, prefix, size, seconds: 60, now: () => clock.now });
}

const streamLength = (channel: string): Promise<number> => redis.xlen(`${prefix}:live:history:{${channel}}`);
const offsetsOf = (publications: { offset: number }[]): number[] => publications.map((publication) => publication.offset);

test("publications older than the window are neither replayed nor paged, before anything trims them", async () => {
  const clock = { now: 1_800_000_000_000 };
  const history = historyAt(clock);
  const channel = `session:${randomUUID()}`;
  await history.publish(channel, '{"kind":"message","n":1}');
  await history.publish(channel, '{"kind":"message","n":2}');
  assert.deepEqual(offsetsOf((await history.replay(channel, 0)).publications), [1, 2]);

  clock.now += MINUTE + 1;
  const replay = await history.replay(channel, 0);
  assert.equal(replay.recovered, false, "the history no longer reaches back to offset 0");
  assert.equal(replay.offset, 2, "the channel's position is still known");
  assert.deepEqual(await history.page(channel, undefined, 10), []);
  assert.equal(await streamLength(channel), 2, "reads do not write");
});

test("the next publication trims what expired, and a resume from inside the window still recovers", async () => {
  const clock = { now: 1_800_000_000_000 };
  const history = historyAt(clock);
  const channel = `session:${randomUUID()}`;
  await history.publish(channel, '{"kind":"message","n":1}');
  clock.now += MINUTE / 2;
  await history.publish(channel, '{"kind":"message","n":2}');
  clock.now += MINUTE / 2 + 1;
  await history.publish(channel, '{"kind":"message","n":3}');

  assert.equal(await streamLength(channel), 2, "the first publication is trimmed");
  const fromInside = await history.replay(channel, 1);
  assert.equal(fromInside.recovered, true);
  assert.deepEqual(offsetsOf(fromInside.publications), [2, 3]);
  assert.equal((await history.replay(channel, 0)).recovered, false);
  assert.deepEqual(offsetsOf(await history.page(channel, undefined, 10)), [3, 2]);
});

test("a long expired run is trimmed a bounded scan at a time, and reads skip the rest meanwhile", async () => {
  const clock = { now: 1_800_000_000_000 };
  const history = historyAt(clock);
  const channel = `session:${randomUUID()}`;
  for (let n = 1; n <= 600; n += 1) await history.publish(channel, `{"kind":"message","n":${n}}`);
  clock.now += MINUTE + 1;

  await history.publish(channel, '{"kind":"message","n":601}');
  const left = await streamLength(channel);
  assert.ok(left > 1 && left < 601, `one publish trims part of the run (${left} left)`);
  const replay = await history.replay(channel, 600);
  assert.deepEqual(offsetsOf(replay.publications), [601]);
  assert.deepEqual(offsetsOf(await history.page(channel, undefined, 1000)), [601], "the expired rest is not paged");

  await history.publish(channel, '{"kind":"message","n":602}');
  assert.equal(await streamLength(channel), 2, "the next publish trims the rest");
});

test("entries without a stamp (written before stamps existed) are kept", async () => {
  const clock = { now: 1_800_000_000_000 };
  const history = historyAt(clock);
  const channel = `session:${randomUUID()}`;
  await redis.xadd(`${prefix}:live:history:{${channel}}`, "0-1", "d", '{"kind":"message","n":1}');
  await redis.set(`${prefix}:live:seq:{${channel}}`, 1);
  clock.now += 10 * MINUTE;
  await history.publish(channel, '{"kind":"message","n":2}');
  assert.equal(await streamLength(channel), 2);
  assert.deepEqual(offsetsOf((await history.replay(channel, 0)).publications), [1, 2]);
});
