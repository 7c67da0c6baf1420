import { Router, type Request, type Response } from "express";
import type { Auth } from "../http/auth.ts";
import { HubError, isHubError } from "../http/errors.ts";
import { sendJson } from "../http/send-json.ts";
import type { AdminGuard } from "./admin-guard.ts";
import { sendPage } from "./admin-html.ts";
import type { AdminSessionStore } from "./admin-session-store.ts";
import { isSameOrigin } from "./request-origin.ts";
import { clearSessionCookie, setSessionCookie } from "./session-cookie.ts";
import { signedInPage, signInForm } from "./sign-in-page.ts";

/** Paths that take an HTML form body (see jsonBody's `formPaths`). */
export const SIGN_IN_FORM_PATHS = ["/admin/session", "/admin/session/delete"] as const;

const MAX_KEY_CHARS = 512;

/**
 * `POST /admin/session` (sign in), `DELETE /admin/session` and `POST /admin/session/delete` (sign
 * out): API operations, in openapi/. A browser's form gets HTML back (a redirect, or the form with
 * its error); anything else gets JSON or problem+json.
 */
export function signInRoutes({ auth, store, guard }: { auth: Auth; store: AdminSessionStore; guard: AdminGuard }): Router {
  const router = Router();

  router.post("/admin/session", async (req, res) => {
    const html = wantsHtml(req);
    try {
      // Login CSRF: another site must not sign this browser in (to a key of its choosing).
      if (!isSameOrigin(req)) throw new HubError("csrf_rejected", `the sign-in came from ${req.headers.origin ?? "?"}, not from this hub's own page`);
      const { key, next } = signInFields(req.body);
      const principal = auth.authenticate(`Bearer ${key}`);
      if (!principal) throw fieldError("unauthorized", "/key", "is not a known API key");
      if (!principal.scopes.has("admin")) {
        throw fieldError("forbidden", "/key", `is a ${[...principal.scopes].join("/")} key; the browser pages need an admin key`);
      }
      const { token, session } = await store.create(principal.keyId);
      setSessionCookie(req, res, token, session.expiresAt);
      req.log.info({ keyId: principal.keyId }, "admin signed in");
      if (html) {
        res.redirect(303, next);
        return;
      }
      sendJson(res, 201, { keyId: principal.keyId, expiresAt: new Date(session.expiresAt).toISOString(), csrfToken: session.csrfToken });
    } catch (error) {
      if (!html || !isHubError(error) || error.status >= 500) throw error;
      const failed = error.options.errors?.[0];
      sendPage(res, error.status, "sign in", signInForm({ next: safeNext(req.body), problem: { field: failed?.pointer.slice(1) ?? "request", message: failed?.message ?? error.message } }));
    }
  });

  const signOut = async (req: Request, res: Response): Promise<void> => {
    const found = await guard.signedIn(req);
    // Signing out without a session changes nothing, so it needs no token; with one it does,
    // or any site could sign an admin out.
    if (found) {
      guard.assertCsrf(req, found.session);
      await store.delete(found.token);
      req.log.info({ keyId: found.principal.keyId }, "admin signed out");
    }
    clearSessionCookie(req, res);
    if (wantsHtml(req)) res.redirect(303, "/admin");
    else res.status(204).end();
  };
  router.delete("/admin/session", signOut);
  router.post("/admin/session/delete", signOut);
  return router;
}

/** `GET /admin`: the sign-in form, or (signed in) links to the admin pages and sign-out. */
export function signInPage(guard: AdminGuard): Router {
  const router = Router();
  router.get("/admin", async (req, res) => {
    const found = await guard.signedIn(req);
    if (found) sendPage(res, 200, "admin", signedInPage(found));
    else sendPage(res, 200, "sign in", signInForm({ next: safeNext(req.query) }));
  });
  return router;
}

function wantsHtml(req: Request): boolean {
  return req.accepts(["json", "html"]) === "html";
}

function signInFields(body: unknown): { key: string; next: string } {
  const fields = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const key = fields["key"];
  if (key === undefined || key === "") throw fieldError("validation_failed", "/key", "is required: paste an admin API key");
  if (typeof key !== "string") throw fieldError("validation_failed", "/key", "must be a string");
  if (key.length > MAX_KEY_CHARS) throw fieldError("validation_failed", "/key", `must be at most ${MAX_KEY_CHARS} characters`);
  const next = fields["next"];
  if (next !== undefined && next !== "" && (typeof next !== "string" || !isLocalPath(next))) {
    throw fieldError("validation_failed", "/next", "must be a path on this hub, such as /godmode");
  }
  return { key: key.trim(), next: typeof next === "string" && next !== "" ? next : "/admin" };
}

/** Where to go after signing in: a path on this hub only (an absolute or `//host` URL would be an open redirect). */
function safeNext(source: unknown): string {
  const next = typeof source === "object" && source !== null ? (source as Record<string, unknown>)["next"] : undefined;
  return typeof next === "string" && isLocalPath(next) ? next : "/admin";
}

function isLocalPath(path: string): boolean {
  return path.length <= 2000 && path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\") && ![...path].some((char) => char < " ");
}

function fieldError(code: "validation_failed" | "unauthorized" | "forbidden", pointer: string, message: string): HubError {
  return new HubError(code, `${pointer.slice(1)} ${message}`, { errors: [{ pointer, message }] });
}
