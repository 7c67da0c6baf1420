import assert from "node:assert/strict";
import type { TestHub } from "../helpers/test-hub.ts";
import { TEST_KEYS } from "../helpers/test-hub.ts";

export interface SignedInClient {
  /** `kefu_admin=<token>`, for a `cookie` header. */
  cookie: string;
  csrfToken: string;
  /** The raw Set-Cookie of the sign-in. */
  setCookie: string;
}

/** Signs in over the JSON API with a key of the given scope and expects 201. */
export async function signIn(hub: Pick<TestHub, "url">, key: string = TEST_KEYS.admin, headers: Record<string, string> = {}): Promise<SignedInClient> {
  const response = await fetch(`${hub.url}/admin/session`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ key }) });
  assert.equal(response.status, 201, await response.clone().text());
  const body = (await response.json()) as { csrfToken: string };
  const setCookie = response.headers.getSetCookie()[0] ?? "";
  return { cookie: setCookie.split(";")[0] ?? "", csrfToken: body.csrfToken, setCookie };
}

/** GET with the session cookie, as a browser would ask for a page. */
export function getPage(hub: Pick<TestHub, "url">, path: string, cookie?: string): Promise<Response> {
  return fetch(hub.url + path, { redirect: "manual", headers: { accept: "text/html", ...(cookie ? { cookie } : {}) } });
}
