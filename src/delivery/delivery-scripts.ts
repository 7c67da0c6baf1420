import type { ChainableCommander, Redis } from "ioredis";

/**
 * The delivery record's writes as Lua scripts, one call instead of four to six commands each: the
 * hub's CPU per delivery went mostly to building, sending and parsing Redis commands. Each script
 * touches only keys of one event (its delivery index, its deliveries' hashes and attempt logs),
 * which share the hash tag `{eventId}` (see delivery-keys.ts), so they run on Redis Cluster as well.
 */

// KEYS[1] the event's delivery index, KEYS[2..] the delivery hashes. ARGV: eventId, eventType,
// createdAt (ISO), createdAt (ms), ttl seconds, then id, subscriptionId per delivery.
// An existing record keeps its status and updatedAt: fan-out may run twice for one event.
const CREATE = `
for j = 1, #KEYS - 1 do
  local key, id = KEYS[j + 1], ARGV[4 + 2 * j]
  redis.call('HSET', key, 'id', id, 'eventId', ARGV[1], 'eventType', ARGV[2], 'subscriptionId', ARGV[5 + 2 * j], 'createdAt', ARGV[3])
  redis.call('HSETNX', key, 'status', 'pending')
  redis.call('HSETNX', key, 'updatedAt', ARGV[3])
  redis.call('EXPIRE', key, ARGV[5])
  redis.call('ZADD', KEYS[1], ARGV[4], id)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1`;

// KEYS[1] delivery hash, KEYS[2] attempt log. ARGV: attempt JSON, attempts kept, ttl seconds,
// then field, value pairs for the hash.
const RECORD_ATTEMPT = `
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1`;

type Arg = string | number;

interface ScriptCommands {
  /** The number of keys first: it varies with the event's deliveries. */
  kefuDeliveryCreate(...args: Arg[]): Promise<unknown>;
  kefuDeliveryRecordAttempt(hashKey: string, attemptsKey: string, ...args: Arg[]): Promise<unknown>;
}

/** The new deliveries of one event. */
export interface NewEventDeliveries {
  eventId: string;
  eventType: string;
  createdAtMs: number;
  /** Key of the event's delivery index. */
  indexKey: string;
  deliveries: readonly { id: string; subscriptionId: string; hashKey: string }[];
}

export interface DeliveryScripts {
  /** Queues the creation of an event's records and index on `pipeline` (made by the same connection). */
  create(pipeline: ChainableCommander, records: NewEventDeliveries, ttlSeconds: number): void;
  /** Sets `fields`, counts the attempt, appends it to the log (keeping the last `kept`), sets both expiries. */
  recordAttempt(keys: { hash: string; attempts: string }, attemptJson: string, kept: number, ttlSeconds: number, fields: readonly Arg[]): Promise<unknown>;
}

/** Registers the scripts on `redis` (EVALSHA, loaded on first use per connection). */
export function createDeliveryScripts(redis: Redis): DeliveryScripts {
  redis.defineCommand("kefuDeliveryCreate", { lua: CREATE });
  redis.defineCommand("kefuDeliveryRecordAttempt", { numberOfKeys: 2, lua: RECORD_ATTEMPT });
  const commands = redis as unknown as ScriptCommands;
  return {
    create(pipeline, { eventId, eventType, createdAtMs, indexKey, deliveries }, ttlSeconds) {
      const args: Arg[] = [deliveries.length + 1, indexKey];
      for (const d of deliveries) args.push(d.hashKey);
      args.push(eventId, eventType, new Date(createdAtMs).toISOString(), createdAtMs, ttlSeconds);
      for (const d of deliveries) args.push(d.id, d.subscriptionId);
      void (pipeline as unknown as ScriptCommands).kefuDeliveryCreate(...args);
    },
    recordAttempt(keys, attemptJson, kept, ttlSeconds, fields) {
      return commands.kefuDeliveryRecordAttempt(keys.hash, keys.attempts, attemptJson, kept, ttlSeconds, ...fields);
    },
  };
}
