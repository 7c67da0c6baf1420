import type { Redis } from "ioredis";

/**
 * Holds a connection's socket writes until the end of this turn of the event loop (cork, then
 * uncork from `setImmediate`), so that the commands issued meanwhile leave in one write. For a
 * connection that does not auto-pipeline because a library drives it (BullMQ's worker): the
 * delivery processor holds it before recording a success, and BullMQ's move to completed, sent a
 * few microtasks later, joins the same write. Order on the socket is unchanged.
 */
export function createWriteCoalescer(redis: Redis): () => void {
  let held: Redis["stream"] | undefined;
  const release = (): void => {
    held?.uncork();
    held = undefined;
  };
  return () => {
    // Not connected yet: ioredis queues the commands itself, in order, until it is.
    if (held || redis.status !== "ready") return;
    held = redis.stream;
    held.cork();
    setImmediate(release);
  };
}
