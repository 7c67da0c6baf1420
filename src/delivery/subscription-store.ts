import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { Subscription } from "./subscription.ts";

export interface SubscriptionStore {
  list(): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | undefined>;
  /** Creates or replaces. */
  save(subscription: Subscription): Promise<void>;
  /** Applies `change` to the current value atomically enough for admin edits (WATCH/MULTI). */
  update(id: string, change: (current: Subscription) => Subscription): Promise<Subscription | undefined>;
  delete(id: string): Promise<boolean>;
}

/** `sub_` + 16 URL-safe characters; never contains `.` (delivery ids rely on it). */
export function newSubscriptionId(): string {
  return `sub_${randomBytes(12).toString("base64url")}`;
}

const COMPARE_AND_SET = `
if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call("HSET", KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0`;

/** Every write is announced on `changes` (a pub/sub channel) so that caches drop their copy. */
export function createSubscriptionStore(redis: Redis, keys: DeliveryKeys, changes: string): SubscriptionStore {
  const announce = async (id: string): Promise<void> => {
    await redis.publish(changes, id);
  };
  const parse = (raw: string | null): Subscription | undefined => (raw ? (JSON.parse(raw) as Subscription) : undefined);
  return {
    async list() {
      const all = await redis.hvals(keys.subscriptions);
      return all.map((raw) => JSON.parse(raw) as Subscription).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    },
    async get(id) {
      return parse(await redis.hget(keys.subscriptions, id));
    },
    async save(subscription) {
      await redis.hset(keys.subscriptions, subscription.id, JSON.stringify(subscription));
      await announce(subscription.id);
    },
    async update(id, change) {
      // Compare-and-set, retried when another writer changed it between read and write. (WATCH
      // would need a connection of its own: other commands share this one.)
      for (let attempt = 0; attempt < 10; attempt++) {
        const raw = await redis.hget(keys.subscriptions, id);
        const current = parse(raw);
        if (!current || raw === null) return undefined;
        const next = change(current);
        const swapped = await redis.eval(COMPARE_AND_SET, 1, keys.subscriptions, id, raw, JSON.stringify(next));
        if (swapped === 1) {
          await announce(id);
          return next;
        }
      }
      throw new Error(`subscription ${id} kept changing; update not applied`);
    },
    async delete(id) {
      const removed = await redis.hdel(keys.subscriptions, id);
      // Its delivery records expire by themselves; its indexes would not.
      await redis.del(keys.failingSince(id), keys.subscriptionDeliveries(id), keys.subscriptionDead(id));
      await announce(id);
      return removed > 0;
    },
  };
}
