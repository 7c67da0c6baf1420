import { hash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import type { ApiKeyConfig, Scope } from "../config/config.ts";
import { HubError } from "./errors.ts";

export interface Principal {
  /** A short fingerprint of the key (never the key itself), safe to log and show. */
  keyId: string;
  scopes: ReadonlySet<Scope>;
}

export interface Auth {
  /** Middleware that lets the request through only with a key holding `scope` (admin holds all). */
  require(scope: Scope): RequestHandler;
  /** The principal of an `Authorization` header value, or undefined. Constant time in the key. */
  authenticate(header: string | undefined): Principal | undefined;
  /** The principal of a configured key by its fingerprint: a browser session stays valid only while its key is. */
  principalOf(keyId: string): Principal | undefined;
}

interface KnownKey {
  digest: Buffer;
  principal: Principal;
}

export function createAuth(apiKeys: readonly ApiKeyConfig[]): Auth {
  const known: KnownKey[] = apiKeys.map(({ key, scopes }) => ({
    digest: sha256(key),
    principal: { keyId: fingerprint(key), scopes: expandScopes(scopes) },
  }));

  // Keys already proven, so that a client's every request does not hash its key again (a sha256
  // was ~5 % of a GET /v1/sessions/{id}, bench/sessions.ts). Only configured keys get in, so it
  // stays as small as the key list. A hash-table lookup compares a string only with entries of
  // the same hash, so a wrong key's time does not depend on how much of a right one it holds.
  const proven = new Map<string, Principal>();

  const authenticate = (header: string | undefined): Principal | undefined => {
    if (!header?.startsWith("Bearer ")) return undefined;
    const token = header.slice(7).trim();
    const cached = proven.get(token);
    if (cached) return cached;
    // Comparing equal-length digests of every key, without stopping at a match, keeps the time
    // independent of which key (if any) matched and of how much of it was right.
    const presented = sha256(token);
    let found: Principal | undefined;
    for (const candidate of known) {
      if (timingSafeEqual(candidate.digest, presented)) found = candidate.principal;
    }
    if (found) proven.set(token, found);
    return found;
  };

  return {
    authenticate,
    principalOf: (keyId) => known.find((candidate) => candidate.principal.keyId === keyId)?.principal,
    require(scope) {
      return (req, _res, next) => {
        const principal = authenticate(req.headers.authorization);
        if (!principal) {
          const detail = req.headers.authorization
            ? "the API key is not known"
            : "send an API key as `Authorization: Bearer <key>`";
          throw new HubError("unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="kefu-hub"' } });
        }
        if (!principal.scopes.has(scope)) {
          throw new HubError("forbidden", `this operation needs the \`${scope}\` scope; the key has ${[...principal.scopes].join(", ")}`);
        }
        req.principal = principal;
        next();
      };
    },
  };
}

export function fingerprint(key: string): string {
  return sha256(key).toString("hex").slice(0, 12);
}

function expandScopes(scopes: readonly Scope[]): ReadonlySet<Scope> {
  return new Set<Scope>(scopes.includes("admin") ? ["admin", "ingest", "read"] : scopes);
}

function sha256(value: string): Buffer {
  // The one-shot form: a Hash object per request costs more than the hashing (bench/http.ts).
  return hash("sha256", value, "buffer");
}
