/**
 * Whether `error` says Redis could not be reached in time (a timed-out command, a connection that
 * is down, a reconnect that gave up), rather than that a command was wrong. Recognised by name and
 * message, since these come from ioredis and BullMQ and cross no `instanceof` reliably.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name === "MaxRetriesPerRequestError" || name === "RedisUnavailableError") return true;
  return typeof message === "string" && /^(Command timed out|Connection is closed|Stream isn't writeable)|ECONNREFUSED|ECONNRESET/.test(message);
}

/** Thrown where the hub itself stops waiting for Redis (see {@link waitForRedis}). */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/** `promise`, or a {@link RedisUnavailableError} once `ms` passed; the promise itself keeps running. */
export async function waitForRedis<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`${what}: Redis did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
