/** Redis keys of the inbound feature; every one starts with `${prefix}:in:`. */
export interface InboundKeys {
  /** Hash: source name → JSON InboundSource. */
  sources: string;
  /** Pub/sub channel: a source was written (message: its name). */
  sourcesChanged: string;
  /** Hash of one raw delivery (see raw-delivery-store.ts). */
  delivery(id: string): string;
  /** Sorted set of every delivery id by receipt time (ms), for listing. */
  all: string;
  /** Sorted set: stored, not yet transformed, by when it was last taken up (ms). */
  pending: string;
  /** Sorted set: dead letters (the transform failed) by failure time (ms). */
  dead: string;
  /** String: a signed message already accepted (the replay guard). */
  replay(source: string, replayKey: string): string;
  /** String: the delivery id a dedupe value was first stored as. */
  dedupe(source: string, value: string): string;
}

export function inboundKeys(prefix: string): InboundKeys {
  const base = `${prefix}:in`;
  return {
    sources: `${base}:sources`,
    sourcesChanged: `${base}:sources-changed`,
    delivery: (id) => `${base}:d:${id}`,
    all: `${base}:all`,
    pending: `${base}:pending`,
    dead: `${base}:dead`,
    // Keys of any length or bytes: a provider's values are hashed by the caller when long.
    replay: (source, replayKey) => `${base}:replay:${source}:${replayKey}`,
    dedupe: (source, value) => `${base}:dedupe:${source}:${value}`,
  };
}
