import { createHmac, createSecretKey, randomBytes, type KeyObject } from "node:crypto";

const PREFIX = "whsec_";

/** A new secret: `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

/** Whether a given secret is one Standard Webhooks receivers can use (`whsec_` + base64 of 24–64 bytes). */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX)) return false;
  const raw = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) return false;
  const length = Buffer.from(raw, "base64").length;
  return length >= 24 && length <= 64;
}

export interface Signer {
  /**
   * The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` per
   * secret, space-separated, so that during a rotation both the new and the previous secret verify.
   */
  sign(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string;
}

export interface SignerOptions {
  /** Keys kept decoded; past this many the cache starts over. @defaultValue 10000 */
  maxKeys?: number;
}

/**
 * Signs with a KeyObject kept per secret: createHmac with a raw key validates and imports it on
 * every call, which cost about 13 µs per signature against 2 µs with a prepared key.
 */
export function createSigner({ maxKeys = 10_000 }: SignerOptions = {}): Signer {
  const keys = new Map<string, KeyObject>();
  const keyOf = (secret: string): KeyObject => {
    let key = keys.get(secret);
    if (!key) {
      if (keys.size >= maxKeys) keys.clear();
      key = createSecretKey(Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64"));
      keys.set(secret, key);
    }
    return key;
  };
  return {
    sign(secrets, id, timestampSeconds, body) {
      const content = `${id}.${timestampSeconds}.${body}`;
      return secrets.map((secret) => `v1,${createHmac("sha256", keyOf(secret)).update(content).digest("base64")}`).join(" ");
    },
  };
}
