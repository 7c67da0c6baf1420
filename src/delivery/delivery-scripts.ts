import type { ChainableCommander, Redis } from "ioredis";

/**
 * The delivery record's writes as Lua scripts, one call instead of four to six commands each: the
 * hub's CPU per delivery went mostly to building, sending and parsing Redis commands. Each script
 * touches only one delivery's hash and attempt log, which share a hash tag (see delivery-keys.ts),
 * so they run on Redis Cluster as well.
 */

// KEYS[1] delivery hash. ARGV: id, eventId, eventType, subscriptionId, createdAt (ISO), ttl seconds.
// An existing record keeps its status and updatedAt: fan-out may run twice for one event.
const CREATE = `
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'eventId', ARGV[2], 'eventType', ARGV[3], 'subscriptionId', ARGV[4], 'createdAt', ARGV[5])
redis.call('HSETNX', KEYS[1], 'status', 'pending')
redis.call('HSETNX', KEYS[1], 'updatedAt', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
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
  kefuDeliveryCreate(hashKey: string, ...args: Arg[]): Promise<unknown>;
  kefuDeliveryRecordAttempt(hashKey: string, attemptsKey: string, ...args: Arg[]): Promise<unknown>;
}

export interface NewDeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  createdAt: string;
}

export interface DeliveryScripts {
  /** Queues the creation of one record on `pipeline` (made by the same connection). */
  create(pipeline: ChainableCommander, hashKey: string, record: NewDeliveryRecord, ttlSeconds: number): void;
  /** Sets `fields`, counts the attempt, appends it to the log (keeping the last `kept`), sets both expiries. */
  recordAttempt(keys: { hash: string; attempts: string }, attemptJson: string, kept: number, ttlSeconds: number, fields: readonly Arg[]): Promise<unknown>;
}

/** Registers the scripts on `redis` (EVALSHA, loaded on first use per connection). */
export function createDeliveryScripts(redis: Redis): DeliveryScripts {
  redis.defineCommand("kefuDeliveryCreate", { numberOfKeys: 1, lua: CREATE });
  redis.defineCommand("kefuDeliveryRecordAttempt", { numberOfKeys: 2, lua: RECORD_ATTEMPT });
  const commands = redis as unknown as ScriptCommands;
  return {
    create(pipeline, hashKey, { id, eventId, eventType, subscriptionId, createdAt }, ttlSeconds) {
      void (pipeline as unknown as ScriptCommands).kefuDeliveryCreate(hashKey, id, eventId, eventType, subscriptionId, createdAt, ttlSeconds);
    },
    recordAttempt(keys, attemptJson, kept, ttlSeconds, fields) {
      return commands.kefuDeliveryRecordAttempt(keys.hash, keys.attempts, attemptJson, kept, ttlSeconds, ...fields);
    },
  };
}
