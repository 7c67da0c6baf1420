import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Publication } from "./channel-history.ts";
import { publicationFrames, type PublicationFrames } from "./publication-frames.ts";

export type PublicationListener = (frames: PublicationFrames) => void;

export interface LocalFanout {
  /** Listens to a channel's publications (from any hub process) until the returned function is called. */
  listen(channel: string, listener: PublicationListener): () => void;
  /** Hands a publication to this process's listeners only (context changes, which every instance learns itself). */
  deliver(publication: Publication): void;
  /** The latest offset this process saw announced on a channel it listens to (0: none yet). */
  lastOffset(channel: string): number;
  /** Whether anything in this process listens to the channel: a publication for nobody need not be built. */
  listened(channel: string): boolean;
  /** Subscribed channels and listeners, for /godmode and the benches. */
  stats(): { channels: number; listeners: number };
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One Redis subscription per process (never one per connection or channel): every publication of
 * every hub process arrives on the announcements channel and goes to this process's listeners of
 * its live channel, with the frame built once per encoding (publication-frames.ts).
 */
export function createLocalFanout({ subscriber, announcements, logger }: { subscriber: Redis; announcements: string; logger: Logger }): LocalFanout {
  const listeners = new Map<string, Set<PublicationListener>>();
  const offsets = new Map<string, number>();
  let count = 0;

  const deliver = (publication: Publication): void => {
    const set = listeners.get(publication.channel);
    if (!set) return;
    if (publication.offset > (offsets.get(publication.channel) ?? 0)) offsets.set(publication.channel, publication.offset);
    const frames = publicationFrames(publication);
    for (const listener of set) {
      try {
        listener(frames);
      } catch (error) {
        logger.warn({ err: error, channel: publication.channel }, "live: a listener threw");
      }
    }
  };

  const onMessage = (channel: string, message: string): void => {
    if (channel !== announcements) return;
    const first = message.indexOf("\n");
    const second = message.indexOf("\n", first + 1);
    if (first < 0 || second < 0) return;
    deliver({ channel: message.slice(0, first), offset: Number(message.slice(first + 1, second)), dataJson: message.slice(second + 1) });
  };

  return {
    listen(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      count++;
      return () => {
        if (set.delete(listener)) count--;
        if (set.size === 0) {
          listeners.delete(channel);
          offsets.delete(channel);
        }
      };
    },
    deliver,
    lastOffset: (channel) => offsets.get(channel) ?? 0,
    listened: (channel) => listeners.has(channel),
    stats: () => ({ channels: listeners.size, listeners: count }),
    async start() {
      subscriber.on("message", onMessage);
      await subscriber.subscribe(announcements);
    },
    close() {
      subscriber.off("message", onMessage);
      return Promise.resolve();
    },
  };
}
