import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type LiveRole = "agent" | "visitor";

/** Who a live connection is, as its token says. */
export interface LivePrincipal {
  role: LiveRole;
  id: string;
  /** A visitor's sessions; agents may touch any. */
  sessions: readonly string[];
  /** Epoch seconds. */
  expiresAt: number;
}

export interface LiveTokens {
  issue(request: { role: LiveRole; id: string; sessions?: readonly string[]; ttlSeconds: number }): { token: string; expiresAt: string };
  /** The principal, or why the token is refused. */
  verify(token: string): LivePrincipal | { refused: string };
}

const HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

/**
 * JWT-compatible (HS256) tokens for the live gateway. The first secret signs; every secret
 * verifies, so a new one is rolled in first and an old one removed once its tokens expired — live
 * connections are checked once, at the upgrade, and never dropped by a rotation.
 */
export function createLiveTokens(secrets: readonly string[], now: () => number = Date.now): LiveTokens {
  if (secrets.length === 0) throw new Error("the live gateway needs at least one token secret");
  const keys = secrets.map((secret) => Buffer.from(secret));
  const sign = (input: string, key: Buffer): Buffer => createHmac("sha256", key).update(input).digest();
  return {
    issue({ role, id, sessions = [], ttlSeconds }) {
      const iat = Math.floor(now() / 1000);
      const exp = iat + ttlSeconds;
      const payload = base64url(JSON.stringify({ sub: id, role, sessions, iat, exp }));
      const signature = sign(`${HEADER}.${payload}`, keys[0] as Buffer).toString("base64url");
      return { token: `${HEADER}.${payload}.${signature}`, expiresAt: new Date(exp * 1000).toISOString() };
    },
    verify(token) {
      const [header, payload, signature, extra] = token.split(".");
      if (!header || !payload || !signature || extra !== undefined) return { refused: "the token is not a JWT" };
      if (header !== HEADER) return { refused: "the token's header is not HS256" };
      const given = Buffer.from(signature, "base64url");
      const valid = keys.some((key) => {
        const expected = sign(`${header}.${payload}`, key);
        return expected.length === given.length && timingSafeEqual(expected, given);
      });
      if (!valid) return { refused: "the token's signature does not verify" };
      let claims: { sub?: unknown; role?: unknown; sessions?: unknown; exp?: unknown };
      try {
        claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as typeof claims;
      } catch {
        return { refused: "the token's payload is not JSON" };
      }
      const { sub, role, sessions, exp } = claims;
      if (typeof sub !== "string" || (role !== "agent" && role !== "visitor") || typeof exp !== "number" || !Array.isArray(sessions)) return { refused: "the token's claims are incomplete" };
      if (exp * 1000 <= now()) return { refused: "the token has expired" };
      return { role, id: sub, sessions: sessions.filter((s): s is string => typeof s === "string"), expiresAt: exp };
    },
  };
}

/** Without KEFU_LIVE_TOKEN_SECRETS: one secret derived from the admin keys, the same on every instance that has them. */
export function derivedSecret(adminKeys: readonly string[]): string {
  return createHash("sha256").update(`kefu-live-token\n${[...adminKeys].sort().join("\n")}`).digest("base64url");
}

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}
