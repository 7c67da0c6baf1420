import type { Response } from "express";

/** Text for HTML, with the five characters that could open markup or leave an attribute escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Headers of every admin page: its own strict CSP (scripts and styles from this hub only, no
 * inline code), not framable, never cached (it shows who is signed in and carries the CSRF token).
 */
export const ADMIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
  "referrer-policy": "same-origin",
};

/** Sends an admin page with {@link ADMIN_PAGE_HEADERS}. */
export function sendPage(res: Response, status: number, title: string, body: string): void {
  res.status(status).set(ADMIN_PAGE_HEADERS);
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.send(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · kefu-hub</title>
  <link rel="stylesheet" href="/admin/assets/admin.css">
</head>
<body>
${body}
</body>
</html>
`);
}
