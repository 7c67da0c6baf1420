import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { HubError } from "../http/errors.ts";
import type { DeliveryKeys } from "./delivery-keys.ts";
import type { Subscription } from "./subscription.ts";

export interface SubscriptionStore {
  list(): Promise<Subscription[]>;
  get(id: string): Promise<Subscription | undefined>;
  /** Creates or replaces. */
  save(subscription: Subscription): Promise<void>;
  /**
   * Applies `change` to the current value by compare-and-set. Updates of one subscription made
   * through this store take turns; one that keeps losing to other instances is HubError
   * `conflict` with `Retry-After`.
   */
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

export interface SubscriptionStoreOptions {
  /** Compare-and-set attempts of one update before it gives up with 409. @defaultValue 20 */
  maxAttempts?: number;
  /** Longest pause between two attempts, grown linearly and jittered. @defaultValue 50 */
  maxBackoffMs?: number;
  /** Injected randomness for the jitter. @defaultValue Math.random */
  random?: () => number;
  /**
   * Told of every write at once, so that this process's own cache never serves a list older than
   * a write that has returned (an event posted right after a new subscription must see it).
   */
  onWrite?: () => void;
}

/** Every write is announced on `changes` (a pub/sub channel) so that caches drop their copy. */
export function createSubscriptionStore(redis: Redis, keys: DeliveryKeys, changes: string, options: SubscriptionStoreOptions = {}): SubscriptionStore {
  const { maxAttempts = 20, maxBackoffMs = 50, random = Math.random, onWrite = () => undefined } = options;
  // One update per subscription at a time in this process: 20 concurrent rotate-secret calls no
  // longer race each other's compare-and-set (10 of them lost all 10 attempts: issue 13 B).
  const turns = new Map<string, Promise<unknown>>();
  const inTurn = <T>(id: string, run: () => Promise<T>): Promise<T> => {
    const previous = turns.get(id) ?? Promise.resolve();
    const mine = previous.then(run, run);
    const settled = mine.then(() => undefined, () => undefined);
    turns.set(id, settled);
    void settled.then(() => {
      if (turns.get(id) === settled) turns.delete(id);
    });
    return mine;
  };
  const announce = async (id: string): Promise<void> => {
    onWrite();
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
    update(id, change) {
      // Compare-and-set, retried when another instance changed it between read and write. (WATCH
      // would need a connection of its own: other commands share this one.)
      return inTurn(id, async () => {
        for (let attempt = 1; ; attempt++) {
          const raw = await redis.hget(keys.subscriptions, id);
          const current = parse(raw);
          if (!current || raw === null) return undefined;
          const next = change(current);
          const swapped = await redis.eval(COMPARE_AND_SET, 1, keys.subscriptions, id, raw, JSON.stringify(next));
          if (swapped === 1) {
            await announce(id);
            return next;
          }
          if (attempt >= maxAttempts) break;
          const pauseMs = Math.min(maxBackoffMs, attempt * 5) * (0.5 + random() / 2);
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
        throw new HubError("conflict", `subscription ${id} was changed by other requests ${maxAttempts} times while this update was applied; it was not applied, retry it`, {
          headers: { "retry-after": "1" },
        });
      });
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
