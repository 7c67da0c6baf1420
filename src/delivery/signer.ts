import { createHmac, randomBytes } from "node:crypto";

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

/**
 * The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` per
 * secret, space-separated, so that during a rotation both the new and the previous secret verify.
 */
export function sign(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  const content = `${id}.${timestampSeconds}.${body}`;
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
      return `v1,${createHmac("sha256", key).update(content).digest("base64")}`;
    })
    .join(" ");
}
