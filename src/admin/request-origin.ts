import type { Request } from "express";

/**
 * Whether the browser reached the hub over https: a TLS socket, or a proxy in front saying so
 * (`X-Forwarded-Proto` / `Forwarded: proto=https`). Trusting the header here is safe: it only
 * makes the cookie stricter (Secure), and a client that lies gets a cookie it will not send back
 * over plain http.
 */
export function isHttps(req: Request): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const forwardedProto = firstValue(req.headers["x-forwarded-proto"]);
  if (forwardedProto?.trim().toLowerCase() === "https") return true;
  const forwarded = firstValue(req.headers["forwarded"]);
  return /(?:^|;)\s*proto=(?:"?)https(?:"?)\s*(?:;|$)/i.test(forwarded?.split(",")[0] ?? "");
}

/**
 * The origin the browser sees this hub at, e.g. `https://hub.example`: the scheme from
 * {@link isHttps}, the host from `X-Forwarded-Host` (a proxy in front) or `Host`. Undefined when
 * the request names no host.
 */
export function ownOrigin(req: Request): string | undefined {
  const host = firstValue(req.headers["x-forwarded-host"])?.split(",")[0]?.trim() ?? req.headers.host;
  if (!host) return undefined;
  return `${isHttps(req) ? "https" : "http"}://${host.toLowerCase()}`;
}

/**
 * Whether the request's `Origin` (sent by browsers on every POST, PUT, PATCH and DELETE) is this
 * hub's own. A request without `Origin` passes here: non-browser clients send none, and the CSRF
 * token still has to be right.
 */
export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const own = ownOrigin(req);
  return own !== undefined && origin.toLowerCase() === own;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}
