import type { Redis } from "ioredis";

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

interface Cursor {
  score: number;
  member: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.score, cursor.member])).toString("base64url");
}

export function decodeCursor(raw: string): Cursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") return { score: value[0], member: value[1] };
  } catch {
    // fall through
  }
  return undefined;
}

/**
 * Members of a sorted set, newest (highest score) first, after the cursor. The cursor holds score
 * and member so that pages stay stable while new members arrive and when scores tie (Redis orders
 * equal scores by member, descending under REV).
 */
export async function pageSortedSet(redis: Redis, key: string, limit: number, cursor?: Cursor): Promise<Page<{ member: string; score: number }>> {
  const items: { member: string; score: number }[] = [];
  let offset = 0;
  const max = cursor ? String(cursor.score) : "+inf";
  for (;;) {
    const batch = await redis.zrange(key, max, "-inf", "BYSCORE", "REV", "LIMIT", offset, limit + 1, "WITHSCORES");
    if (batch.length === 0) break;
    offset += batch.length / 2;
    for (let i = 0; i < batch.length; i += 2) {
      const member = batch[i] as string;
      const score = Number(batch[i + 1]);
      if (cursor && score === cursor.score && member >= cursor.member) continue;
      items.push({ member, score });
    }
    if (items.length > limit || batch.length / 2 < limit + 1) break;
  }
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return items.length > limit && last ? { items: page, nextCursor: encodeCursor(last) } : { items: page };
}
