import type { Redis } from "ioredis";
import type { InboundKeys } from "./inbound-keys.ts";
import type { InboundSource } from "./inbound-source.ts";

export interface SourceStore {
  list(): Promise<InboundSource[]>;
  get(name: string): Promise<InboundSource | undefined>;
  /** Creates or replaces; answers whether it existed. */
  save(source: InboundSource): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

export interface SourceStoreOptions {
  /** Told of every write of this process at once, so that its own cache never serves an older copy. */
  onWrite?: () => void;
}

/**
 * Inbound sources in one Redis hash; every write is announced on `keys.sourcesChanged` so that
 * every instance's cache drops its copy (as subscriptions do in src/delivery/).
 */
export function createSourceStore(redis: Redis, keys: InboundKeys, { onWrite = () => undefined }: SourceStoreOptions = {}): SourceStore {
  const announce = async (name: string): Promise<void> => {
    onWrite();
    await redis.publish(keys.sourcesChanged, name);
  };
  return {
    async list() {
      const all = await redis.hvals(keys.sources);
      return all.map((raw) => JSON.parse(raw) as InboundSource).sort((a, b) => a.name.localeCompare(b.name));
    },
    async get(name) {
      const raw = await redis.hget(keys.sources, name);
      return raw ? (JSON.parse(raw) as InboundSource) : undefined;
    },
    async save(source) {
      const created = await redis.hset(keys.sources, source.name, JSON.stringify(source));
      await announce(source.name);
      return created === 0;
    },
    async delete(name) {
      const removed = await redis.hdel(keys.sources, name);
      await announce(name);
      return removed > 0;
    },
  };
}
