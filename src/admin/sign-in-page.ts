import { escapeHtml } from "./admin-html.ts";
import type { SignedIn } from "./admin-guard.ts";

/** The sign-in form, with what went wrong (naming the field) when a first try failed. */
export function signInForm({ next, problem }: { next: string; problem?: { field: string; message: string } }): string {
  const error = problem ? `<p class="problem" id="problem" data-field="${escapeHtml(problem.field)}">${escapeHtml(problem.field)}: ${escapeHtml(problem.message)}</p>` : "";
  return `<main class="card">
  <h1>kefu-hub admin</h1>
  <p>Sign in with an <strong>admin</strong> API key to open the queue board and <code>/godmode</code>.
  The key is exchanged for a session cookie; the page never stores it.</p>
  ${error}
  <form method="post" action="/admin/session" id="sign-in">
    <label>Admin key <input type="password" name="key" id="key" autocomplete="current-password" required maxlength="512" autofocus></label>
    <input type="hidden" name="next" value="${escapeHtml(next)}">
    <button type="submit">Sign in</button>
  </form>
  <p class="muted">API clients keep using <code>Authorization: Bearer &lt;key&gt;</code>; see <a href="/docs">/docs</a>.</p>
</main>`;
}

/** What a signed-in admin sees at /admin: where to go, and sign-out (a POST carrying the CSRF token). */
export function signedInPage({ session, principal }: SignedIn): string {
  return `<main class="card">
  <h1>kefu-hub admin</h1>
  <p id="who">Signed in with key <code>${escapeHtml(principal.keyId)}</code> until
  <time datetime="${new Date(session.expiresAt).toISOString()}">${new Date(session.expiresAt).toISOString().replace("T", " ").slice(0, 19)} UTC</time>.</p>
  <ul class="links">
    <li><a href="/admin/queues">Queues</a> — bull-board, read-only (retry and replay go through the API)</li>
    <li><a href="/godmode">/godmode</a> — where the memory goes, live</li>
    <li><a href="/demo/agent">Demo agent console</a> · <a href="/docs">API docs</a></li>
  </ul>
  <form method="post" action="/admin/session/delete" id="sign-out">
    <input type="hidden" name="csrf" value="${escapeHtml(session.csrfToken)}">
    <button type="submit" class="secondary">Sign out</button>
  </form>
</main>`;
}
