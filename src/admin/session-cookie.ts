import type { Request, Response } from "express";
import { isHttps } from "./request-origin.ts";

/**
 * Over https the cookie is `__Host-kefu_admin`: browsers then refuse it unless it is Secure, for
 * `Path=/` and without `Domain`, so that no sibling subdomain can plant or shadow it. Over plain
 * http (a hub on localhost) that prefix cannot be used.
 */
const SECURE_NAME = "__Host-kefu_admin";
const PLAIN_NAME = "kefu_admin";

/** The session token of the request's cookie, or undefined. */
export function sessionTokenOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  let plain: string | undefined;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (name === SECURE_NAME) return value;
    if (name === PLAIN_NAME) plain = value;
  }
  return plain;
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure over https, expiring with the session. */
export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: number): void {
  const maxAgeSeconds = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
  res.append("set-cookie", cookie(req, token, [`Max-Age=${maxAgeSeconds}`, `Expires=${new Date(expiresAt).toUTCString()}`]));
}

/** Tells the browser to drop the session cookie. */
export function clearSessionCookie(req: Request, res: Response): void {
  res.append("set-cookie", cookie(req, "", ["Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT"]));
}

function cookie(req: Request, value: string, expiry: string[]): string {
  const secure = isHttps(req);
  return [`${secure ? SECURE_NAME : PLAIN_NAME}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict", ...expiry, ...(secure ? ["Secure"] : [])].join("; ");
}
