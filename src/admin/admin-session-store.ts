import { hash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/** A signed-in browser: which admin key signed in, its CSRF token, and when it ends. */
export interface AdminSession {
  /** The fingerprint of the admin key that signed in (auth.ts `fingerprint`), never the key. */
  keyId: string;
  /** Sent back by the pages on every state-changing request (form field or header). */
  csrfToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface AdminSessionStore {
  /** A new session for `keyId`; returns the cookie's token (known only to the browser) and the session. */
  create(keyId: string): Promise<{ token: string; session: AdminSession }>;
  /** The live session of a cookie token, or undefined (unknown, expired or malformed). */
  get(token: string): Promise<AdminSession | undefined>;
  /** Ends a session; a token that is not one is a no-op. */
  delete(token: string): Promise<void>;
}

export interface AdminSessionStoreOptions {
  redis: Redis;
  /** Keys are `${prefix}:admin:session:<sha256 of the token>`. */
  prefix: string;
  ttlSeconds: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

// 32 random bytes, base64url: 43 characters. Anything else is not a token and costs no Redis call.
const TOKEN = /^[\w-]{43}$/;

/**
 * Admin sessions in Redis, so that every hub instance honours them. Redis holds the SHA-256 of
 * the cookie's token, not the token: someone who can read Redis (a backup, `MONITOR`) cannot sign
 * in with what they read. The key expires with the session; use does not extend it.
 */
export function createAdminSessionStore({ redis, prefix, ttlSeconds, now = Date.now }: AdminSessionStoreOptions): AdminSessionStore {
  const keyOf = (token: string): string => `${prefix}:admin:session:${hash("sha256", token, "hex")}`;
  return {
    async create(keyId) {
      const token = randomBytes(32).toString("base64url");
      const session: AdminSession = { keyId, csrfToken: randomBytes(32).toString("base64url"), expiresAt: now() + ttlSeconds * 1000 };
      await redis.set(keyOf(token), JSON.stringify(session), "PX", ttlSeconds * 1000);
      return { token, session };
    },
    async get(token) {
      if (!TOKEN.test(token)) return undefined;
      const stored = await redis.get(keyOf(token));
      const session = stored === null ? undefined : parseSession(stored);
      // Redis expires the key, but a session read in its last millisecond must not outlive it.
      return session && session.expiresAt > now() ? session : undefined;
    },
    async delete(token) {
      if (TOKEN.test(token)) await redis.del(keyOf(token));
    },
  };
}

function parseSession(stored: string): AdminSession | undefined {
  try {
    const value = JSON.parse(stored) as Partial<AdminSession>;
    if (typeof value.keyId === "string" && typeof value.csrfToken === "string" && typeof value.expiresAt === "number") {
      return { keyId: value.keyId, csrfToken: value.csrfToken, expiresAt: value.expiresAt };
    }
  } catch {
    // A value this code did not write: treated as no session.
  }
  return undefined;
}
