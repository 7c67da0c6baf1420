import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * Tells the other hub instances sharing a Redis which cache keys were invalidated here, so that
 * they drop their in-process copies too (the shared Redis copy is deleted by whoever invalidates).
 */
export interface InvalidationBus {
  publish(keys: readonly string[]): Promise<void>;
  /** Unsubscribes. Idempotent. */
  close(): Promise<void>;
}

export interface InvalidationBusOptions {
  publisher: Redis;
  /** A connection of its own: a subscribed connection can do nothing else. */
  subscriber: Redis;
  channel: string;
  /** Keys another instance invalidated. */
  onRemote: (keys: string[]) => void;
  onError?: (error: unknown) => void;
}

interface Notice {
  /** The instance that published, which ignores its own notices. */
  o: string;
  k: string[];
}

/** Subscribes before resolving, so that no notice published after it is missed. */
export async function createInvalidationBus({ publisher, subscriber, channel, onRemote, onError }: InvalidationBusOptions): Promise<InvalidationBus> {
  const origin = randomUUID();
  subscriber.on("message", (from: string, text: string) => {
    if (from !== channel) return;
    try {
      const notice = JSON.parse(text) as Partial<Notice>;
      if (notice.o !== origin && Array.isArray(notice.k)) onRemote(notice.k.filter((key): key is string => typeof key === "string"));
    } catch (error) {
      onError?.(error);
    }
  });
  await subscriber.subscribe(channel);
  let closing: Promise<void> | undefined;
  return {
    async publish(keys) {
      if (keys.length === 0) return;
      const notice: Notice = { o: origin, k: [...keys] };
      await publisher.publish(channel, JSON.stringify(notice));
    },
    close: () =>
      (closing ??= (async () => {
        try {
          await subscriber.unsubscribe(channel);
        } catch (error) {
          onError?.(error);
        }
      })()),
  };
}
