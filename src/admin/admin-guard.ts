import { timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler } from "express";
import type { Auth, Principal } from "../http/auth.ts";
import { HubError } from "../http/errors.ts";
import type { AdminSession, AdminSessionStore } from "./admin-session-store.ts";
import { isSameOrigin } from "./request-origin.ts";
import { clearSessionCookie, sessionTokenOf } from "./session-cookie.ts";

export interface SignedIn {
  token: string;
  session: AdminSession;
  principal: Principal;
}

export interface AdminGuard {
  /** The request's admin session, when its cookie names a live one whose key is still an admin key. */
  signedIn(req: Request): Promise<SignedIn | undefined>;
  /**
   * Pages: without a session a browser (`Accept: text/html`) is sent to the sign-in form and back
   * afterwards; anything else is answered 401 problem+json.
   */
  page: RequestHandler;
  /** After `page`: the session of a request it let through. */
  sessionOf(req: Request): SignedIn;
  /**
   * For requests that change state, after `page`: the `Origin` must be the hub's own and the
   * session's CSRF token must come back (form field `csrf` or header `x-csrf-token`).
   */
  csrf: RequestHandler;
  /** What `csrf` checks, for a handler that found the session itself; throws `csrf_rejected`. */
  assertCsrf(req: Request, session: AdminSession): void;
}

/** The CSRF token a request carries: header `x-csrf-token`, or the form field `csrf`. */
export function csrfTokenOf(req: Request): string | undefined {
  const header = req.headers["x-csrf-token"];
  if (typeof header === "string") return header;
  const field = (req.body as Record<string, unknown> | undefined)?.["csrf"];
  return typeof field === "string" ? field : undefined;
}

export function createAdminGuard({ store, auth }: { store: AdminSessionStore; auth: Auth }): AdminGuard {
  const seen = new WeakMap<Request, SignedIn>();

  const signedIn = async (req: Request): Promise<SignedIn | undefined> => {
    const token = sessionTokenOf(req);
    if (!token) return undefined;
    const session = await store.get(token);
    if (!session) return undefined;
    // A key removed from the configuration (or demoted) ends its sessions at the next request.
    const principal = auth.principalOf(session.keyId);
    if (!principal?.scopes.has("admin")) return undefined;
    return { token, session, principal };
  };

  const assertCsrf = (req: Request, session: AdminSession | undefined): void => {
    if (!isSameOrigin(req)) throw new HubError("csrf_rejected", `the request came from ${req.headers.origin ?? "?"}, not from this hub's own pages`);
    const sent = csrfTokenOf(req);
    if (!session || !sent || !sameText(sent, session.csrfToken)) {
      throw new HubError("csrf_rejected", "send the session's CSRF token (form field `csrf` or header `x-csrf-token`); sign in again at /admin to get one", {
        errors: [{ pointer: "/csrf", message: sent === undefined ? "is missing" : "is not this session's token" }],
      });
    }
  };

  return {
    signedIn,
    async page(req, res, next) {
      const found = await signedIn(req);
      if (found) {
        seen.set(req, found);
        req.principal = found.principal;
        next();
        return;
      }
      if (sessionTokenOf(req)) clearSessionCookie(req, res);
      if ((req.method === "GET" || req.method === "HEAD") && req.accepts(["json", "html"]) === "html") {
        res.redirect(303, `/admin?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      throw new HubError("unauthorized", "this page needs an admin session: sign in at /admin with an admin key (the session may have expired)");
    },
    sessionOf(req) {
      const found = seen.get(req);
      if (!found) throw new Error("sessionOf() called on a request the admin guard did not let through");
      return found;
    },
    csrf(req, _res, next) {
      assertCsrf(req, seen.get(req)?.session);
      next();
    },
    assertCsrf,
  };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
